"""What this machine lets the process use (no side effects, no heavy imports: the CLI and deploy read it)."""
import os

__all__ = ['available_cpus', 'cpu_flags', 'cpu_has_bf16']


def available_cpus() -> int:
    """The CPUs this process may run on (its affinity mask; the machine's count where there is none). Runtimes'
    own defaults count every logical CPU of the machine, which oversubscribes a container or a pinned job."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def cpu_flags() -> frozenset:
    """The instruction-set flags of this machine's CPU as Linux lists them (empty where /proc/cpuinfo is absent)."""
    try:
        with open('/proc/cpuinfo', encoding='ascii', errors='replace') as stream:
            for line in stream:
                if line.startswith('flags'):
                    return frozenset(line.split(':', 1)[1].split())
    except OSError:
        pass
    return frozenset()


def cpu_has_bf16() -> bool:
    """Whether the CPU computes bfloat16 natively (AVX512-BF16 or AMX), which oneDNN's bf16 kernels need."""
    return bool(cpu_flags() & {'avx512_bf16', 'amx_bf16'})
