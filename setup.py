"""Builds torch_poisson: setuptools drives CMakeLists.txt, which finds LibTorch
from the installed torch. The metadata lives in pyproject.toml. Install with

    pip install --no-build-isolation -e .

inside an environment that already has torch (an isolated build would fetch
another torch); `pip wheel --no-build-isolation --no-deps -w dist .` makes a
wheel (tools/build_wheel.sh also repairs it to a manylinux tag)."""
import os
import subprocess
import sys
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = Path(__file__).resolve().parent
BUILD_INFO = "_build_info.py"


class CMakeExtension(Extension):
    def __init__(self, name):
        super().__init__(name, sources=[])


class CMakeBuild(build_ext):
    def build_extension(self, ext):
        if ext.name == "torch_poisson._engine":
            return  # built next to _ops by the same CMake run (listed so it gets installed)
        import torch  # must be importable: we build against it
        import torch.utils

        try:
            import pybind11

            pybind11_dir = pybind11.get_cmake_dir()
        except ImportError:
            pybind11_dir = ""
        target = Path(self.get_ext_fullpath(ext.name)).resolve()
        out = target.parent
        stem = target.name[: -len(".so")] if target.name.endswith(".so") else target.stem
        build = Path(self.build_temp).resolve() / ext.name
        build.mkdir(parents=True, exist_ok=True)
        cfg = os.environ.get("TORCH_POISSON_BUILD_TYPE", "Release")
        args = [
            f"-DCMAKE_BUILD_TYPE={cfg}",
            f"-DCMAKE_PREFIX_PATH={torch.utils.cmake_prefix_path}",
            f"-DCMAKE_LIBRARY_OUTPUT_DIRECTORY={out}",
            f"-DPython3_EXECUTABLE={sys.executable}",
            f"-DPDS_OPS_OUTPUT_NAME={stem}",
            "-DPDS_TESTS=OFF",
            # libtorch_cpu is looked up in the installed torch next to this
            # package (site-packages/torch/lib), never in the build machine's
            # torch: a wheel loads with whatever torch the user has
            "-DCMAKE_BUILD_WITH_INSTALL_RPATH=ON",
            "-DCMAKE_INSTALL_RPATH=$ORIGIN/../torch/lib",
        ]
        if pybind11_dir:
            args.append(f"-Dpybind11_DIR={pybind11_dir}")
        args += os.environ.get("TORCH_POISSON_CMAKE_ARGS", "").split()
        subprocess.check_call(["cmake", str(ROOT), *args], cwd=build)
        jobs = str(os.cpu_count() or 2)
        subprocess.check_call(["cmake", "--build", ".", "--config", cfg, "-j", jobs], cwd=build)
        # the torch it was built against, for `python -m torch_poisson info`
        (out / BUILD_INFO).write_text(
            '"""Written by setup.py when the extension was built (not in git)."""\n'
            f"TORCH_VERSION = {torch.__version__!r}\n"
        )

    def copy_extensions_to_source(self):
        """An in-place or editable build copies the libraries into the source
        tree; the build info goes with them."""
        super().copy_extensions_to_source()
        package_dir = self.get_finalized_command("build_py").get_package_dir("torch_poisson")
        built = os.path.join(self.build_lib, "torch_poisson", BUILD_INFO)
        self.copy_file(built, os.path.join(package_dir, BUILD_INFO), level=self.verbose)


setup(
    ext_modules=[CMakeExtension("torch_poisson._ops"), CMakeExtension("torch_poisson._engine")],
    cmdclass={"build_ext": CMakeBuild},
    zip_safe=False,
)
