# Sourced by image/build and image/bin/nava-instruct: the image names and podman's settings, said once.
IMAGE=localhost/nava-instruct:cpu
BASE_IMAGE=localhost/nava-instruct-base:bookworm
export CONTAINERS_CONF
CONTAINERS_CONF="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/containers.conf"
