"""Sharpness along a training run (progressive sharpening and the edge of stability).

:class:`SharpnessTracker` follows ``lambda_max`` of the Hessian of the loss (the factorization loss
or a data loss) from one point of a trajectory to the next: each solve is a Lanczos run
warm-started from the previous top eigenvector (a few Hessian-vector products when the weights
moved little, against a full cold Lanczos per point), and every point records its eigen-residual
``||H v - lambda v||``. It takes NumPy factorizations, weight lists, torch networks or torch state
dicts (:meth:`SharpnessTracker.update`; or use it as a training-loop callback ``tracker(step,
net)``); :func:`track_checkpoints` runs it over saved checkpoints. :func:`plot_sharpness_track`
draws the sharpness against ``2 / eta`` with the loss.

The curvature is that of ``c * weight * ||P X - Y||^2`` (``weight = 1/n`` for ``reduction="mean"``)
or ``c ||P - M||^2``; :meth:`SharpnessTracker.for_mse` sets ``c`` so that it is that of
``nn.MSELoss`` (``c = 1 / d_L`` for its mean). GD with step ``eta`` on that same loss is stable
at a minimizer iff ``eta < 2 / lambda_max``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from .data import Data
from .derivatives import loss
from .factorization import Factorization, check_count, check_positive, check_scale
from .spectrum import sharpness
from .torch_adapter import _mse_data, weights_from_torch

__all__ = [
    "SharpnessTrack",
    "SharpnessTracker",
    "TrackPoint",
    "plot_sharpness_track",
    "track_checkpoints",
]


@dataclass(frozen=True)
class TrackPoint:
    """Sharpness at one point of a trajectory.

    Attributes
    ----------
    step : int
        Step (or checkpoint) index.
    lambda_max : float
        Largest Hessian eigenvalue of the loss.
    eigen_residual : float
        ``||H v - lambda_max v||`` of the returned eigenvector.
    n_matvecs : int
        Operator products of this solve (warm-started after the first point).
    converged : bool
        Whether Lanczos met its tolerance.
    loss : float
        The loss at the point.
    method : str
        Route of :func:`dmfsharp.sharpness` (``lanczos-hvp`` off minimizers).
    is_minimizer : bool
        Whether the point was a minimizer.
    """

    step: int
    lambda_max: float
    eigen_residual: float
    n_matvecs: int
    converged: bool
    loss: float
    method: str
    is_minimizer: bool


@dataclass(frozen=True)
class SharpnessTrack:
    """The points recorded by a :class:`SharpnessTracker`.

    Attributes
    ----------
    points : tuple of TrackPoint
        In recording order.
    scale : float
        Loss scale ``c``.
    reduction : str or None
        ``"mean"``/``"sum"`` on data, ``None`` for the factorization loss.
    eta : float or None
        The training step size, when given (for the ``2 / eta`` line).
    """

    points: tuple[TrackPoint, ...]
    scale: float
    reduction: str | None
    eta: float | None = None

    def _col(self, name: str) -> np.ndarray:
        return np.array([getattr(p, name) for p in self.points])

    @property
    def steps(self) -> np.ndarray:
        """Step of every point."""
        return self._col("step").astype(np.int64)

    @property
    def lambda_max(self) -> np.ndarray:
        """Sharpness of every point."""
        return self._col("lambda_max").astype(float)

    @property
    def loss(self) -> np.ndarray:
        """Loss of every point."""
        return self._col("loss").astype(float)

    @property
    def eigen_residuals(self) -> np.ndarray:
        """Eigen-residual of every point."""
        return self._col("eigen_residual").astype(float)

    @property
    def n_matvecs(self) -> np.ndarray:
        """Products of every solve."""
        return self._col("n_matvecs").astype(np.int64)

    def convention(self) -> str:
        """The loss convention in words, e.g. ``"(0.5/n)||PX - Y||^2"``."""
        c = f"{self.scale:g}"
        if self.reduction is None:
            return f"{c}||P - M||^2"
        return f"({c}/n)||PX - Y||^2" if self.reduction == "mean" else f"{c}||PX - Y||^2"


class SharpnessTracker:
    """Follow the sharpness along a trajectory with warm-started Lanczos.

    Parameters
    ----------
    data : Data, optional
        Samples of the data loss. Exactly one of ``data`` and ``target`` is needed for points
        given as weights or torch networks (a :class:`Factorization` carries its own).
    target : array_like, optional
        Target ``M`` of the factorization loss.
    scale : float, default 0.5
        Loss scale ``c``.
    tol : float, default 1e-7
        Lanczos tolerance of every solve (relative residual).
    eta : float, optional
        Training step size (recorded for :func:`plot_sharpness_track`).
    method : str, default "auto"
        Passed to :func:`dmfsharp.sharpness`.

    Examples
    --------
    Gradient descent on a deep linear regression, tracked every 25 steps:

    >>> import numpy as np
    >>> from dmfsharp import Data, Factorization, gradient_descent
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((200, 4)); Y = X @ rng.standard_normal((4, 2))
    >>> start = Factorization([0.3 * rng.standard_normal((5, 4)), 0.3 * rng.standard_normal((2, 5))],
    ...                       data=Data(X, Y))
    >>> tracker = SharpnessTracker(eta=0.05)
    >>> fac = start
    >>> for step in range(0, 100, 25):
    ...     point = tracker.update(fac, step=step)
    ...     fac = gradient_descent(fac, 0.05, 25, direction=np.ones(fac.n_params)).final
    >>> track = tracker.track
    >>> len(track.points), bool(np.all(track.eigen_residuals <= 1e-6 * track.lambda_max))
    (4, True)
    """

    def __init__(
        self,
        data: Data | None = None,
        target=None,
        scale: float = 0.5,
        *,
        tol: float = 1e-7,
        eta: float | None = None,
        method: str = "auto",
    ):
        if data is not None and target is not None:
            raise ValueError("target: give either data or a target, not both")
        self.data, self.target = data, target
        self.scale = check_scale(scale)
        self.tol = tol
        self.eta = None if eta is None else check_positive(eta, "eta")
        self.method = method
        self._points: list[TrackPoint] = []
        self._v = None
        self._reduction = None if data is None else data.reduction

    @classmethod
    def for_mse(cls, X, Y, reduction: str = "mean", **kwargs) -> SharpnessTracker:
        """A tracker of the Hessian of ``nn.MSELoss(reduction=reduction)(net(X), Y)``
        (``scale = 1 / d_L`` for ``"mean"``, ``1`` for ``"sum"``; see
        :func:`dmfsharp.torch_sharpness`)."""
        data, scale = _mse_data(X, Y, reduction)
        return cls(data=data, scale=scale, **kwargs)

    def _factorization(self, point) -> Factorization:
        if isinstance(point, Factorization):
            return point
        if isinstance(point, list | tuple) and point and isinstance(point[0], np.ndarray):
            weights = list(point)
        else:
            weights = weights_from_torch(point)
        if self.data is None and self.target is None:
            raise ValueError(
                "point: weights or a torch network need the tracker's data= (or target=); "
                "a network has no target of its own"
            )
        return Factorization(weights, target=self.target, data=self.data)

    def update(self, point, step: int | None = None) -> TrackPoint:
        """Record the sharpness at ``point``.

        Parameters
        ----------
        point : Factorization, list of ndarray, torch module or state dict
            The weights at this step.
        step : int, optional
            Its step (default: the number of points recorded so far).

        Returns
        -------
        TrackPoint
        """
        step = len(self._points) if step is None else check_count(step, "step", minimum=0)
        fac = self._factorization(point)
        if self._reduction is None and fac.data is not None:
            self._reduction = fac.data.reduction
        v0 = self._v if self._v is not None and self._v.size == fac.n_params else None
        res = sharpness(fac, self.scale, tol=self.tol, method=self.method, v0=v0)
        self._v = res.flat_eigenvector()
        pt = TrackPoint(
            step=step,
            lambda_max=res.lambda_max,
            eigen_residual=res.eigen_residual,
            n_matvecs=res.n_matvecs,
            converged=res.converged,
            loss=loss(fac, self.scale),
            method=res.method,
            is_minimizer=res.is_minimizer,
        )
        self._points.append(pt)
        return pt

    def __call__(self, step: int, net) -> TrackPoint:
        """Training-loop callback form: ``tracker(step, net)``."""
        return self.update(net, step=step)

    @property
    def track(self) -> SharpnessTrack:
        """The points so far."""
        return SharpnessTrack(tuple(self._points), self.scale, self._reduction, self.eta)


def track_checkpoints(
    checkpoints: Iterable,
    data: Data | None = None,
    target=None,
    scale: float = 0.5,
    *,
    steps: Iterable[int] | None = None,
    **kwargs,
) -> SharpnessTrack:
    """Sharpness at every saved checkpoint, warm-starting each solve from the previous one.

    Parameters
    ----------
    checkpoints : iterable
        Factorizations, weight lists, torch networks or state dicts (``torch.load`` of
        ``net.state_dict()``), in trajectory order.
    data, target, scale
        As for :class:`SharpnessTracker`.
    steps : iterable of int, optional
        Step of every checkpoint (default ``0, 1, ...``).
    **kwargs
        ``tol``, ``eta``, ``method`` of :class:`SharpnessTracker`.

    Returns
    -------
    SharpnessTrack

    Examples
    --------
    >>> import numpy as np
    >>> from dmfsharp import gaussian_minimizer
    >>> fac = gaussian_minimizer((3, 4, 2), rng=0)
    >>> ckpts = [[w * (1 + 0.01 * t) for w in fac.weights] for t in range(3)]
    >>> track = track_checkpoints(ckpts, target=fac.target)
    >>> track.steps.tolist(), bool(track.lambda_max[0] > 0)
    ([0, 1, 2], True)
    """
    tracker = SharpnessTracker(data=data, target=target, scale=scale, **kwargs)
    step_list = None if steps is None else list(steps)
    for i, ck in enumerate(checkpoints):
        if step_list is not None and i == len(step_list):
            raise ValueError(f"steps: {len(step_list)} steps for more checkpoints than that")
        tracker.update(ck, step=i if step_list is None else step_list[i])
    return tracker.track


def plot_sharpness_track(track: SharpnessTrack, eta: float | None = None, ax=None):
    """Sharpness against the stability threshold ``2 / eta``, with the loss on a second axis.

    Parameters
    ----------
    track : SharpnessTrack
        From :class:`SharpnessTracker` or :func:`track_checkpoints`.
    eta : float, optional
        Step size for the ``2 / eta`` line (default ``track.eta``).
    ax : matplotlib Axes, optional
        Target axes (a new figure otherwise); the loss goes on ``ax.twinx()``.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> from dmfsharp import gaussian_minimizer
    >>> fac = gaussian_minimizer((3, 4, 2), rng=0)
    >>> track = track_checkpoints([fac, fac], target=fac.target, eta=0.1)
    >>> fig = plot_sharpness_track(track)
    >>> print(fig.axes[0].get_ylabel())
    λ_max of 0.5||P - M||^2
    (c = 0.5; paper: c = 1)
    >>> plt.close(fig)
    """
    from ._optional import require
    from .figures import COLUMN_WIDTH, _figure, _legend, curvature_label, legible

    require("matplotlib.pyplot", "plot", "plot_sharpness_track")  # names this function
    new = ax is None
    if new:
        _, ax = _figure(figsize=(COLUMN_WIDTH, 3.4))
    eta = track.eta if eta is None else eta
    ax.plot(track.steps, track.lambda_max, "o-", ms=3, color="C0", label="sharpness λ_max")
    if eta is not None:
        ax.axhline(2.0 / eta, color="C3", ls="--", lw=1.0, label=f"2/η = {2.0 / eta:.4g}")
    ax.set_xlabel("step")
    ax.set_ylabel(curvature_label(f"λ_max of {track.convention()}", track.scale, sep="\n"))
    ax2 = ax.twinx()
    ok = track.loss > 0
    ax2.semilogy(track.steps[ok], track.loss[ok], color="C2", lw=1.0, label="loss")
    ax2.set_ylabel(curvature_label("loss", track.scale, short=True), color="C2")
    ax.plot([], [], color="C2", lw=1.0, label="loss (right axis)")  # one legend for both axes
    _legend(ax, new)
    ax.set_title("sharpness along training vs 2/η")
    return legible(ax.figure)
