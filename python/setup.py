"""Wheel build glue: the pure-Python package from python/codebind plus the native module
(_codebind*.so, built by CMake) from CODEBIND_BUILD_DIR (a relative path is taken from the
repository root; default build/release, configured with the release preset when it does not
exist yet). The wheel is tagged for this interpreter and platform."""
import glob
import os
import shutil
import subprocess

from setuptools import Distribution, setup
from setuptools.command.build_py import build_py

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)


def native_files(build_dir):
    return glob.glob(os.path.join(build_dir, "python", "codebind", "_codebind*.so"))


class BuildWithNative(build_py):
    def run(self):
        super().run()
        build_dir = os.path.join(REPO, os.environ.get("CODEBIND_BUILD_DIR") or os.path.join("build", "release"))
        if not native_files(build_dir):
            if not os.path.isfile(os.path.join(build_dir, "CMakeCache.txt")):
                subprocess.check_call(["cmake", "--preset", "release"], cwd=REPO)
            subprocess.check_call(["cmake", "--build", build_dir, "--target", "codebind_python_package"], cwd=REPO)
        found = native_files(build_dir)
        if not found:
            raise SystemExit(f"setup.py: no _codebind*.so under {build_dir}/python/codebind after the build")
        for f in found:
            shutil.copy2(f, os.path.join(self.build_lib, "codebind"))


class NativeDistribution(Distribution):
    def has_ext_modules(self):  # a platform wheel (it carries a compiled module)
        return True


setup(cmdclass={"build_py": BuildWithNative}, distclass=NativeDistribution)
