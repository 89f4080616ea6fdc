#!/usr/bin/env bash
# install_python.sh BUILD_DIR — installs the built `codebind` package (BUILD_DIR/python/codebind)
# for Debian's python3, in its /usr/local site directory (/usr/local/lib/python3.X/dist-packages,
# on Debian's sys.path; apt's own /usr/lib/python3/dist-packages is left alone). Run by
# `make python`; CODEBIND_PYTHON_PREFIX installs elsewhere.
set -euo pipefail
BUILD=${1:-build/release}
SRC="$BUILD/python/codebind"
[ -f "$SRC/__init__.py" ] || { echo "install_python: $SRC not built (make python builds it)" >&2; exit 2; }
DEFAULT_DEST=$(/usr/bin/python3 -c 'import site; print(next(p for p in site.getsitepackages() if p.startswith("/usr/local")))')
DEST=${CODEBIND_PYTHON_PREFIX:-$DEFAULT_DEST}
SUDO=""; [ "$(id -u)" = 0 ] || [ -w "$DEST" ] || SUDO=sudo
$SUDO mkdir -p "$DEST/codebind"
$SUDO cp -f "$SRC"/*.py "$SRC"/*.so "$SRC"/py.typed "$DEST/codebind/"
$SUDO cp -f "$SRC"/*.pyi "$DEST/codebind/" 2>/dev/null || true
cd /  # import the installed copy, not a source tree
/usr/bin/python3 -c "import codebind; print('codebind', codebind.__version__, 'installed in', codebind.__file__)"
