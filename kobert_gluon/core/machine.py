"""What this machine lets the process use (no side effects, no heavy imports: the CLI and deploy read it)."""
import os

__all__ = ['available_cpus']


def available_cpus() -> int:
    """The CPUs this process may run on (its affinity mask; the machine's count where there is none). Runtimes'
    own defaults count every logical CPU of the machine, which oversubscribes a container or a pinned job."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)
