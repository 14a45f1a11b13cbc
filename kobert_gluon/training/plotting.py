"""The training plot of a run folder: training loss per step and the dev metric per epoch, as one PNG."""
import io
import warnings
from typing import Any, Dict, Optional

__all__ = ['training_plot_png']


def training_plot_png(history: Dict[str, Any], metric: Optional[str] = None) -> bytes:
    """``history`` (the trainer's ``metrics.json``) drawn as a PNG image, its bytes (the caller writes them where the
    run keeps its files); raises ImportError without matplotlib."""
    with warnings.catch_warnings():
        # matplotlib 3.9 calls pyparsing names that pyparsing >= 3.3 deprecates: noise, not our concern
        warnings.simplefilter('ignore', DeprecationWarning)
        return _plot(history, metric)


def _dev_points(history, metric):
    """``(step, value)`` of a dev metric: from step-grid evaluations when the run had them, else per epoch."""
    records = history.get('evaluations') or history.get('epochs', [])
    return [(r['step'], r['dev'][metric]) for r in records
            if metric and r.get('dev', {}).get(metric) is not None]


def _running_mean(values, width):
    """Mean of the last ``width`` values at every point (single steps are too noisy to read)."""
    out, total, window = [], 0.0, []
    for value in values:
        window.append(value)
        total += value
        if len(window) > width:
            total -= window.pop(0)
        out.append(total / len(window))
    return out


def _plot_task_metrics(axis, history, names, width):
    """Training values of the task's step metrics (running mean) and their dev values, on one axis."""
    steps = [s for s in history['steps'] if len(s) > 4]
    records = history.get('evaluations') or history.get('epochs', [])
    colors = ['tab:blue', 'tab:orange', 'tab:green', 'tab:purple', 'tab:brown']
    for color, name in zip(colors * 4, names):
        points = [(s[0], s[4][name]) for s in steps if s[4].get(name) is not None]
        if points:
            smoothing = ' (mean of {} steps)'.format(width) if width > 1 else ''
            axis.plot([p[0] for p in points], _running_mean([p[1] for p in points], width), color=color,
                      linewidth=0.9, label='train {}{}'.format(name, smoothing))
        dev = [(r['step'], r['dev'][name]) for r in records if r.get('dev', {}).get(name) is not None]
        if dev:
            axis.plot([p[0] for p in dev], [p[1] for p in dev], 's--', color=color, label='dev {}'.format(name))
    axis.set_xlabel('optimisation step')
    axis.legend(loc='best', fontsize='small')


def _plot(history, metric) -> bytes:
    # A bare Figure renders with Agg and leaves pyplot's global backend and figure list alone.
    from matplotlib.figure import Figure

    steps = history.get('steps', [])
    epochs = history.get('epochs', [])
    # Tasks that report step metrics (pretraining: MLM/NSP loss and accuracy) get a panel for losses and
    # one for the rest below the overall loss.
    metric_names = list(steps[-1][4]) if steps and len(steps[-1]) > 4 else []
    loss_names = [n for n in metric_names if n.endswith('loss')]
    other_names = [n for n in metric_names if not n.endswith('loss')]
    panels = 1 + bool(loss_names) + bool(other_names)
    figure = Figure(figsize=(8, 4.5 + 3.5 * (panels - 1)), dpi=100)
    axes = figure.subplots(panels, 1, squeeze=False)[:, 0]
    loss_axis = axes[0]
    if steps:
        loss_axis.plot([s[0] for s in steps], [s[1] for s in steps], color='tab:blue', linewidth=0.8, alpha=0.5,
                       label='training loss (step)')
    if epochs:
        loss_axis.plot([e['step'] for e in epochs], [e['train_loss'] for e in epochs], 'o-', color='tab:blue',
                       label='training loss (epoch mean)')
    loss_axis.set_xlabel('optimisation step')
    loss_axis.set_ylabel('training loss', color='tab:blue')
    handles, labels = loss_axis.get_legend_handles_labels()
    dev_points = _dev_points(history, metric)
    if dev_points:
        metric_axis = loss_axis.twinx()
        metric_axis.plot([p[0] for p in dev_points], [p[1] for p in dev_points], 's--', color='tab:red',
                         label='dev {}'.format(metric))
        metric_axis.set_ylabel('dev {}'.format(metric), color='tab:red')
        more_handles, more_labels = metric_axis.get_legend_handles_labels()
        handles, labels = handles + more_handles, labels + more_labels
    if handles:
        loss_axis.legend(handles, labels, loc='best', fontsize='small')
    best = history.get('best')
    title = 'training'
    if best and best.get('metric'):
        where = 'step {}'.format(best['step']) if history.get('evaluations') else 'epoch {}'.format(best['epoch'])
        title += ': best dev {} {:.4f} at {}'.format(best['metric'], best['value'], where)
    loss_axis.set_title(title)
    width = max(1, min(100, len(steps) // 20))
    for axis, names in zip(axes[1:], [n for n in (loss_names, other_names) if n]):
        _plot_task_metrics(axis, history, names, width)
    figure.tight_layout()
    image = io.BytesIO()
    figure.savefig(image, format='png')
    return image.getvalue()
