"""The training plot of a run folder: training loss per step and the dev metric per epoch, as one PNG."""
import warnings
from pathlib import Path
from typing import Any, Dict, Optional

__all__ = ['plot_training_history']


def plot_training_history(history: Dict[str, Any], path, metric: Optional[str] = None) -> Path:
    """Draw ``history`` (the trainer's ``metrics.json``) to ``path``; raises ImportError without matplotlib."""
    with warnings.catch_warnings():
        # matplotlib 3.9 calls pyparsing names that pyparsing >= 3.3 deprecates: noise, not our concern
        warnings.simplefilter('ignore', DeprecationWarning)
        return _plot(history, Path(path), metric)


def _plot(history, path: Path, metric):
    # A bare Figure renders with Agg and leaves pyplot's global backend and figure list alone.
    from matplotlib.figure import Figure

    steps = history.get('steps', [])
    epochs = history.get('epochs', [])
    figure = Figure(figsize=(8, 4.5), dpi=100)
    loss_axis = figure.subplots()
    if steps:
        loss_axis.plot([s[0] for s in steps], [s[1] for s in steps], color='tab:blue', linewidth=0.8, alpha=0.5,
                       label='training loss (step)')
    if epochs:
        loss_axis.plot([e['step'] for e in epochs], [e['train_loss'] for e in epochs], 'o-', color='tab:blue',
                       label='training loss (epoch mean)')
    loss_axis.set_xlabel('optimisation step')
    loss_axis.set_ylabel('training loss', color='tab:blue')
    handles, labels = loss_axis.get_legend_handles_labels()
    dev_points = [(e['step'], e['dev'][metric]) for e in epochs if metric and metric in e.get('dev', {})]
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
        title += ': best dev {} {:.4f} at epoch {}'.format(best['metric'], best['value'], best['epoch'])
    loss_axis.set_title(title)
    figure.tight_layout()
    tmp = path.with_name('.' + path.name + '.tmp.png')
    figure.savefig(str(tmp), format='png')
    tmp.replace(path)  # readers never see a half-written image
    return path
