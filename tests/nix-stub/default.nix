# A stand-in for `import nixpkgs { system; config; }`, for evaluating ../../flake.nix offline
# (tests/test_environment.py). Packages are real but unbuildable derivations; the functions the flake
# calls check their arguments the way nixpkgs would, and a few rules this project holds to:
# an unfree package needs config.allowUnfree or config.allowUnfreePredicate (as in nixpkgs), and an
# OCI image must not be stamped with the build time (created = "now").
{ system ? builtins.currentSystem, config ? { }, overlays ? [ ], ... }:
let
  lib = import ./lib.nix;
  inherit (builtins) all isAttrs isList isString match toJSON;

  unbuildable = name: attrs: derivation ({
    inherit name system;
    builder = "/bin/sh";
    args = [ "-c" "echo 'nix stub: ${name} is for evaluation only' >&2; exit 1" ];
  } // attrs);

  # A package: a derivation with pname, version, a lib output where real packages have one, and meta.
  package = pname: { version ? "0-stub", unfree ? false, withLib ? false }:
    let
      drv = unbuildable "${pname}-${version}" { };
      allowed = !unfree
        || (config.allowUnfree or false)
        || (config.allowUnfreePredicate or (_: false)) result;
      result = drv // {
        inherit pname version;
        meta = { license = { free = !unfree; shortName = if unfree then "unfree" else "free"; }; };
      } // (if withLib then { lib = unbuildable "${pname}-${version}-lib" { }; } else { });
    in
    if allowed then result
    else throw "Package ‘${pname}-${version}’ has an unfree license, refusing to evaluate (nix stub).";

  isDerivation = x: isAttrs x && (x.type or null) == "derivation";
  checkPackages = what: xs:
    if isList xs && all isDerivation xs then xs
    else throw "nix stub: ${what} must be a list of derivations";

  cc = package "gcc" { version = "14-stub"; withLib = true; };
in
{
  inherit system config lib;
  stdenv = { cc = package "gcc-wrapper" { version = "14-stub"; } // { inherit cc; }; };

  python311 = package "python3" { version = "3.11.14"; };
  bash = package "bash" { };
  cacert = package "nss-cacert" { };
  cmake = package "cmake" { };
  coreutils = package "coreutils" { };
  findutils = package "findutils" { };
  git = package "git" { };
  gnugrep = package "gnugrep" { };
  gnumake = package "gnumake" { };
  gnused = package "gnused" { };
  gnutar = package "gnutar" { };
  gzip = package "gzip" { };
  ninja = package "ninja" { };
  pkg-config = package "pkg-config" { };
  zlib = package "zlib" { withLib = true; };

  # Every CUDA package is unfree, as in nixpkgs.
  cudaPackages = lib.genAttrs [
    "cuda_cccl" "cuda_cudart" "cuda_cupti" "cuda_nvcc" "cuda_nvrtc" "cuda_nvtx" "cudnn" "libcublas"
    "libcufft" "libcurand" "libcusolver" "libcusparse" "libnvjitlink" "nccl"
  ] (pname: package pname { version = "12.8-stub"; unfree = true; });

  mkShell = args:
    assert !(args ? shellHook) || isString args.shellHook;
    unbuildable (args.name or "nix-shell") {
      packages = checkPackages "mkShell's packages" (args.packages or [ ]);
      env = toJSON (removeAttrs args [ "packages" "name" ]);
    };

  # Like nixpkgs: the script is `set -o errexit -o nounset -o pipefail`, runtimeInputs on PATH, then
  # the text. Exposed as `script` so the tests can check and run it.
  writeShellApplication = { name, text, runtimeInputs ? [ ], ... }:
    let
      binPath = builtins.concatStringsSep ":" (map (p: "${p}/bin") (checkPackages "runtimeInputs" runtimeInputs));
      script = ''
        #!/usr/bin/env bash
        set -o errexit
        set -o nounset
        set -o pipefail

        export PATH="${binPath}:$PATH"

        ${text}
      '';
    in
    unbuildable name { inherit script; } // { inherit script; meta.mainProgram = name; };

  writeTextDir = path: text:
    assert isString text;
    unbuildable (baseNameOf path) { inherit path text; };

  dockerTools.buildLayeredImage = args:
    let
      created = args.created or "1970-01-01T00:00:01Z";
      configJSON = toJSON (args.config or { });
    in
    if created == "now" then throw "nix stub: created = \"now\" stamps the image with its build time; it would not be reproducible"
    else if match "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z" created == null then throw "nix stub: created = \"${created}\" is not an RFC 3339 UTC time"
    else if !(isList (args.config.Entrypoint or [ ]) && all isString (args.config.Entrypoint or [ ])) then throw "nix stub: config.Entrypoint must be a list of strings"
    else
      unbuildable "${args.name}.tar.gz" {
        inherit created;
        imageName = args.name;
        imageTag = args.tag or "latest";
        contents = checkPackages "contents" (args.contents or [ ]);
        config = configJSON;
        extraCommands = args.extraCommands or "";
      };
}
