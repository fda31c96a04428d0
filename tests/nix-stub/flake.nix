{
  description = "Evaluation-only stand-in for nixpkgs, for the offline `nix flake check` of ../../flake.nix";

  outputs = { self }: {
    lib = import ./lib.nix;
    legacyPackages = (import ./lib.nix).genAttrs [ "x86_64-linux" "aarch64-linux" ] (system: import ./default.nix { inherit system; });
  };
}
