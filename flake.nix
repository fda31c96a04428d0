{
  description = "nava-instruct: the NAVA copilot pipeline with pinned CPU and CUDA environments";

  # Pinned by flake.lock (rev + narHash); `nix flake update` moves it.
  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-25.11";

  # Nix pins the system layer (Python 3.11, compilers, git, CUDA toolkit); the Python packages come from
  # the same hash-pinned locks as everywhere else (requirements.lock, requirements-cuda.lock), installed
  # by `make setup` into a venv of Nix's Python. See docs/environments.md.
  outputs = { self, nixpkgs }:
    let
      lib = nixpkgs.lib;

      # The Python locks pin x86_64 wheels (torch's CPU build among them).
      systems = [ "x86_64-linux" ];
      forAllSystems = f: lib.genAttrs systems f;

      # The unfree packages the CUDA environment may use; any other unfree package is still refused.
      cudaUnfree = [
        "cuda_cccl" "cuda_compat" "cuda_crt" "cuda_cudart" "cuda_cuobjdump" "cuda_cupti" "cuda_cuxxfilt"
        "cuda_nvcc" "cuda_nvdisasm" "cuda_nvml_dev" "cuda_nvprune" "cuda_nvrtc" "cuda_nvtx" "cuda_nvvm"
        "cuda_profiler_api" "cuda_sanitizer_api" "cudnn" "libcublas" "libcufft" "libcufile" "libcurand"
        "libcusolver" "libcusparse" "libcusparse_lt" "libnvjitlink" "libnvvm" "nccl"
      ];

      pkgsFor = system: import nixpkgs { inherit system; };
      cudaPkgsFor = system: import nixpkgs {
        inherit system;
        config = {
          cudaSupport = true;
          allowUnfreePredicate = pkg: builtins.elem (lib.getName pkg) cudaUnfree;
        };
      };

      # As in the Makefile and Dockerfile.cuda.
      determinism = {
        PYTHONHASHSEED = "0";
        HF_HUB_OFFLINE = "1";
        TRANSFORMERS_OFFLINE = "1";
        TOKENIZERS_PARALLELISM = "false";
        MPLBACKEND = "Agg";
        CUBLAS_WORKSPACE_CONFIG = ":4096:8";
      };

      # What `make setup` and `make repro` run: Python 3.11 for the venv, a C/C++ toolchain and CMake
      # for llama-cpp-python's sdist, git for DVC, and the shell tools of the Makefile's recipes.
      toolsFor = pkgs: [
        pkgs.python311 pkgs.stdenv.cc pkgs.gnumake pkgs.cmake pkgs.ninja pkgs.pkg-config pkgs.git
        pkgs.bash pkgs.coreutils pkgs.findutils pkgs.gnugrep pkgs.gnused pkgs.gnutar pkgs.gzip pkgs.cacert
      ];

      # Libraries that PyPI's manylinux wheels (torch, numpy, ...) load from the system; on NixOS the
      # GPU driver's libcuda is in /run/opengl-driver/lib.
      wheelLibraryPath = pkgs: lib.makeLibraryPath [ pkgs.stdenv.cc.cc.lib pkgs.zlib ];
      driverLibraryPath = "/run/opengl-driver/lib";

      # A venv of its own (.venv-nix*), so a .venv made by another Python is left alone.
      makeFlags = pkgs: venv: lock: "SHELL=${pkgs.bash}/bin/bash VENV=${venv} PY_LOCK=${lock}";

      # `nix run .#repro`: `make repro` (set-up from the lock, then `dvc repro`) in the current checkout.
      reproFor = { pkgs, venv, lock, libraryPath }: pkgs.writeShellApplication {
        name = "nava-repro";
        runtimeInputs = toolsFor pkgs;
        text = ''
          if [ ! -f dvc.yaml ] || [ ! -f Makefile ]; then
            echo "nava-repro: run it from a nava-instruct checkout (no dvc.yaml and Makefile in $PWD)" >&2
            exit 2
          fi
          export LD_LIBRARY_PATH="${libraryPath}''${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
          export SSL_CERT_FILE="''${SSL_CERT_FILE:-${pkgs.cacert}/etc/ssl/certs/ca-bundle.crt}"
          exec make ${makeFlags pkgs venv lock} repro "$@"
        '';
      };

      reproCpu = system: let pkgs = pkgsFor system; in reproFor {
        inherit pkgs;
        venv = ".venv-nix";
        lock = "requirements.lock";
        libraryPath = wheelLibraryPath pkgs;
      };
      reproCuda = system: let pkgs = cudaPkgsFor system; in reproFor {
        inherit pkgs;
        venv = ".venv-nix-cuda";
        lock = "requirements-cuda.lock";
        libraryPath = "${driverLibraryPath}:${wheelLibraryPath pkgs}";
      };

      # The pipeline as an OCI image: the repro app on a minimal root, run against a checkout mounted at
      # /work. Reproducible: every path comes from the store and every timestamp is the epoch's.
      ociImageFor = system:
        let
          pkgs = pkgsFor system;
          repro = reproCpu system;
          passwd = pkgs.writeTextDir "etc/passwd" ''
            root:x:0:0:root:/root:/bin/sh
            nava:x:1000:1000:nava:/home/nava:/bin/sh
          '';
          group = pkgs.writeTextDir "etc/group" ''
            root:x:0:
            nava:x:1000:
          '';
        in
        pkgs.dockerTools.buildLayeredImage {
          name = "nava-instruct";
          tag = "nix-cpu";
          created = "1970-01-01T00:00:01Z";
          contents = [ repro pkgs.bash pkgs.coreutils pkgs.cacert passwd group ];
          extraCommands = ''
            mkdir -p tmp work home/nava
            chmod 1777 tmp home/nava
          '';
          config = {
            Entrypoint = [ "${repro}/bin/nava-repro" ];
            WorkingDir = "/work";
            User = "1000:1000";
            Env = [
              "HOME=/home/nava"
              "SSL_CERT_FILE=${pkgs.cacert}/etc/ssl/certs/ca-bundle.crt"
            ] ++ lib.mapAttrsToList (name: value: "${name}=${value}") determinism;
          };
        };
    in
    {
      packages = forAllSystems (system: {
        repro = reproCpu system;
        repro-cuda = reproCuda system;
        oci-image = ociImageFor system;
        default = reproCpu system;
      });

      apps = forAllSystems (system: {
        repro = {
          type = "app";
          program = "${reproCpu system}/bin/nava-repro";
          meta.description = "Set up .venv-nix from requirements.lock and run `dvc repro` in this checkout";
        };
        repro-cuda = {
          type = "app";
          program = "${reproCuda system}/bin/nava-repro";
          meta.description = "Set up .venv-nix-cuda from requirements-cuda.lock and run `dvc repro` in this checkout";
        };
        default = self.apps.${system}.repro;
      });

      devShells = forAllSystems (system:
        let
          pkgs = pkgsFor system;
          cudaPkgs = cudaPkgsFor system;
        in
        {
          # CPU: `make setup`, `make test`, `make repro` as anywhere else, in .venv-nix.
          default = pkgs.mkShell ({
            packages = toolsFor pkgs;
            LD_LIBRARY_PATH = wheelLibraryPath pkgs;
            MAKEFLAGS = makeFlags pkgs ".venv-nix" "requirements.lock";
          } // determinism);

          # CUDA: the CUDA lock in .venv-nix-cuda, the driver's libraries, and the CUDA toolkit for
          # compiling CUDA code (e.g. llama.cpp's CUDA backend: CMAKE_ARGS=-DGGML_CUDA=on).
          cuda = cudaPkgs.mkShell ({
            packages = toolsFor cudaPkgs ++ [
              cudaPkgs.cudaPackages.cuda_nvcc
              cudaPkgs.cudaPackages.cuda_cudart
              cudaPkgs.cudaPackages.cuda_cccl
              cudaPkgs.cudaPackages.libcublas
            ];
            LD_LIBRARY_PATH = "${driverLibraryPath}:${wheelLibraryPath cudaPkgs}";
            MAKEFLAGS = makeFlags cudaPkgs ".venv-nix-cuda" "requirements-cuda.lock";
          } // determinism);
        });
    };
}
