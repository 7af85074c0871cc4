"""Builds torch_poisson: setuptools drives CMakeLists.txt, which finds LibTorch
from the installed torch. Install with

    pip install --no-build-isolation -e .

inside an environment that already has torch (an isolated build would fetch
another torch)."""
import os
import subprocess
import sys
from pathlib import Path

from setuptools import Extension, find_packages, setup
from setuptools.command.build_ext import build_ext

ROOT = Path(__file__).resolve().parent


class CMakeExtension(Extension):
    def __init__(self, name):
        super().__init__(name, sources=[])


class CMakeBuild(build_ext):
    def build_extension(self, ext):
        if ext.name == "torch_poisson._engine":
            return  # built next to _ops by the same CMake run (listed so it gets installed)
        import torch  # noqa: F401 - must be importable: we build against it
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
        ]
        if pybind11_dir:
            args.append(f"-Dpybind11_DIR={pybind11_dir}")
        args += os.environ.get("TORCH_POISSON_CMAKE_ARGS", "").split()
        subprocess.check_call(["cmake", str(ROOT), *args], cwd=build)
        jobs = str(os.cpu_count() or 2)
        subprocess.check_call(["cmake", "--build", ".", "--config", cfg, "-j", jobs], cwd=build)


setup(
    name="torch_poisson",
    version="0.1.0",
    description="Poisson disk (blue-noise) subsets of point sets for PyTorch: "
    "weighted sample elimination in C, a torch operator, and DataLoader samplers",
    packages=find_packages(include=["torch_poisson", "torch_poisson.*"]),
    ext_modules=[CMakeExtension("torch_poisson._ops"), CMakeExtension("torch_poisson._engine")],
    cmdclass={"build_ext": CMakeBuild},
    python_requires=">=3.9",
    install_requires=["torch>=2.10", "numpy"],
    zip_safe=False,
)
