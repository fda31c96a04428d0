# The part of nixpkgs' lib that ../../flake.nix uses, with the same semantics.
let
  inherit (builtins) attrNames concatStringsSep isString listToAttrs map parseDrvName;
in
rec {
  genAttrs = names: f: listToAttrs (map (name: { inherit name; value = f name; }) names);
  getName = x: if isString x then (parseDrvName x).name else x.pname or (parseDrvName x.name).name;
  getLib = pkg: pkg.lib or pkg.out or pkg;
  makeLibraryPath = pkgs: concatStringsSep ":" (map (pkg: "${getLib pkg}/lib") pkgs);
  mapAttrsToList = f: attrs: map (name: f name attrs.${name}) (attrNames attrs);
}
