"""Build the C extension pycache._pycache over libpycache-client.

Two ways to find the library (docs/python.md, "Building"):

* PYCACHE_BUILD_DIR=<a configured and built pycache build directory>: the
  library in <dir>/.libs and the header in ../libclient (or
  PYCACHE_INCLUDE_DIR); the extension records <dir>/.libs as its run path.
  This is how `make python` builds it for the tests and the demo.
* otherwise pkg-config's pycache-client: the library as installed by
  `make install` (PKG_CONFIG_PATH may point at it).  This is what
  `pip install ./python` uses.
"""

import os
import shlex
import subprocess
import sys

from setuptools import Extension, setup

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCES = ["ext/module.c", "ext/conv.c", "ext/client.c", "ext/read.c", "ext/write.c"]
WARN = ["-std=c11", "-Wall", "-Wextra", "-Wshadow", "-Wstrict-prototypes", "-Wvla", "-Wformat=2",
        "-Wmissing-prototypes", "-fvisibility=hidden"]
SYSTEM_LIBDIRS = ("/usr/lib", "/lib", "/usr/lib64", "/lib64")


def _in_tree(build):
    libdir = os.path.join(os.path.abspath(build), ".libs")
    include = os.environ.get("PYCACHE_INCLUDE_DIR") or os.path.join(HERE, "..", "libclient")
    if not os.path.exists(os.path.join(include, "pycache.h")):
        sys.exit(f"setup.py: no pycache.h in {include}: set PYCACHE_INCLUDE_DIR")
    return {"include_dirs": [include], "library_dirs": [libdir],
            "runtime_library_dirs": [libdir], "libraries": ["pycache-client"]}


def _pkg_config():
    try:
        out = subprocess.run(["pkg-config", "--cflags", "--libs", "pycache-client"],
                             check=True, capture_output=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError) as e:
        err = getattr(e, "stderr", "") or str(e)
        sys.exit("setup.py: pkg-config cannot find pycache-client (" + err.strip() + ").\n"
                 "Install the C library first (make install in its build directory, "
                 "then PKG_CONFIG_PATH=<prefix>/lib/pkgconfig if the prefix is not "
                 "searched), or set PYCACHE_BUILD_DIR to a built pycache build directory.")
    cfg = {"include_dirs": [], "library_dirs": [], "runtime_library_dirs": [],
           "libraries": [], "extra_compile_args": []}
    for flag in shlex.split(out):
        if flag.startswith("-I"):
            cfg["include_dirs"].append(flag[2:])
        elif flag.startswith("-L"):
            cfg["library_dirs"].append(flag[2:])
            if not flag[2:].startswith(SYSTEM_LIBDIRS):
                cfg["runtime_library_dirs"].append(flag[2:])
        elif flag.startswith("-l"):
            cfg["libraries"].append(flag[2:])
        else:
            cfg["extra_compile_args"].append(flag)
    return cfg


def _library():
    build = os.environ.get("PYCACHE_BUILD_DIR")
    return _in_tree(build) if build else _pkg_config()


lib = _library()
ext = Extension(
    "pycache._pycache",
    sources=SOURCES,
    depends=["ext/pyc.h"],
    include_dirs=lib["include_dirs"],
    library_dirs=lib["library_dirs"],
    runtime_library_dirs=lib["runtime_library_dirs"],
    libraries=lib["libraries"],
    extra_compile_args=WARN + lib.get("extra_compile_args", []),
)

setup(
    ext_modules=[ext],
    package_dir={"": "src"},
    packages=["pycache", "pycache.adapters", "pycache.datatypes"],
    package_data={"pycache": ["py.typed", "*.pyi"]},
)
