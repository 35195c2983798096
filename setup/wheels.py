"""Read and unpack the PyPI torch wheel for setup/setup.sh (no torch import).

  python3 setup/wheels.py requirements TORCH_WHEEL cpu|cuda
      prints, one a line, the CUDA wheels torch's own metadata pins that a
      CPU or a CUDA libtorch needs on Linux x86_64
  python3 setup/wheels.py unpack WHEEL_DIR DEST cpu|cuda
      unpacks torch/include, the libraries and torch/version.py into DEST
      (include/, lib/, version.py)

See docs/libtorch.md for what the wheels hold and why each file is kept.
"""

import glob
import os
import re
import shutil
import sys
import zipfile

from pip._vendor.packaging.requirements import Requirement

# libtorch_cpu.so has DT_NEEDED on the CUDA runtime and CUPTI even on CPU,
# so a CPU libtorch needs exactly these two CUDA libraries: the extras of the
# cuda-toolkit meta-package (torch 2.11) or the nvidia-*-cuXY wheels (2.1)
# that hold them.
CPU_TOOLKIT_EXTRAS = {"cudart", "cupti"}
CPU_WHEEL = re.compile(r"^nvidia-cuda-(runtime|cupti)(-cu\d+)?$")
CPU_LIBS = re.compile(r"^lib(cudart|cupti)\.so\.\d+$")

# The CPU part of torch/lib: libtorch.so is left out because its DT_NEEDED
# names libtorch_cuda.so.
CPU_TORCH_LIBS = {"libc10.so", "libtorch_cpu.so", "libtorch_global_deps.so", "libshm.so"}
# libtorch_python.so needs a Python interpreter; nothing else is left out
# with CUDA, since libtorch loads some libraries only when first used
# (libtorch_cuda_linalg.so, libcaffe2_nvrtc.so, cuDNN's engines).
CUDA_SKIP_TORCH_LIBS = {"libtorch_python.so"}

LINUX = {
    "platform_system": "Linux",
    "platform_machine": "x86_64",
    "sys_platform": "linux",
    "os_name": "posix",
    "python_version": "3.11",
    "python_full_version": "3.11.0",
    "platform_python_implementation": "CPython",
    "implementation_name": "cpython",
    "extra": "",
}


def requirements(wheel, mode):
    with zipfile.ZipFile(wheel) as z:
        meta = next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))
        lines = z.read(meta).decode().splitlines()
    out = []
    for line in lines:
        if not line.startswith("Requires-Dist:"):
            continue
        req = Requirement(line.split(":", 1)[1].strip())
        if req.marker is not None and not req.marker.evaluate(LINUX):
            continue
        name = req.name.lower().replace("_", "-")
        if name == "cuda-toolkit":
            extras = set(req.extras)
            if mode == "cpu":
                extras &= CPU_TOOLKIT_EXTRAS
            if extras:
                out.append(f"{name}[{','.join(sorted(extras))}]{req.specifier}")
        elif name.startswith("nvidia-") and (mode == "cuda" or CPU_WHEEL.match(name)):
            out.append(f"{name}{req.specifier}")
    if not out:
        sys.exit(f"setup: error: {os.path.basename(wheel)} pins no CUDA runtime wheels; is this a CUDA build of torch?")
    print("\n".join(out))


def unpack(src, dst, mode):
    lib = os.path.join(dst, "lib")
    os.makedirs(lib)
    torch_wheels = glob.glob(os.path.join(src, "torch-*.whl"))
    if len(torch_wheels) != 1:
        sys.exit(f"setup: error: expected one torch wheel in {src}, found {len(torch_wheels)}")
    for whl in sorted(glob.glob(os.path.join(src, "*.whl"))):
        with zipfile.ZipFile(whl) as z:
            for m in z.infolist():
                n = m.filename
                base = os.path.basename(n)
                if n.endswith("/"):
                    continue
                if n.startswith("torch/include/"):
                    out = os.path.join(dst, "include", n[len("torch/include/"):])
                elif n == "torch/version.py":
                    out = os.path.join(dst, "version.py")
                elif n == "torch/lib/" + base and ".so" in base:
                    if mode == "cpu" and not (base in CPU_TORCH_LIBS or base.startswith("libgomp")):
                        continue
                    if mode == "cuda" and base in CUDA_SKIP_TORCH_LIBS:
                        continue
                    out = os.path.join(lib, base)
                elif n.startswith("nvidia/") and "/lib/" in n and ".so" in base:
                    if mode == "cpu" and not CPU_LIBS.match(base):
                        continue
                    out = os.path.join(lib, base)
                    if os.path.exists(out):
                        sys.exit(f"setup: error: {base} is in two wheels ({whl} and an earlier one)")
                else:
                    continue
                os.makedirs(os.path.dirname(out), exist_ok=True)
                with z.open(m) as r, open(out, "wb") as w:
                    shutil.copyfileobj(r, w)
                os.chmod(out, 0o755 if out.startswith(lib) else 0o644)


if __name__ == "__main__":
    cmd, args = sys.argv[1:2], sys.argv[2:]
    if cmd == ["requirements"] and len(args) == 2 and args[1] in ("cpu", "cuda"):
        requirements(*args)
    elif cmd == ["unpack"] and len(args) == 3 and args[2] in ("cpu", "cuda"):
        unpack(*args)
    else:
        sys.exit(__doc__)
