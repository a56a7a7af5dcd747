"""``mcvd ber`` subcommand: bit error rate of on-off keying over a scenario's channel (a thin
layer over :func:`mcvd.comm.ber` and :func:`mcvd.comm.ber_vs_symbol_duration`)."""

from __future__ import annotations

import json
import math

from ._common import parse_floats

__all__ = ["add_ber_parser", "cmd_ber"]

_DEFAULTS = {"memory": 10, "p1": 0.5, "model": "exact", "approximation": "exact"}


def add_ber_parser(sub) -> None:
    """Register ``mcvd ber`` on an argparse sub-parser collection.

    Parameters
    ----------
    sub : argparse._SubParsersAction
        From ``ArgumentParser.add_subparsers()``.

    Examples
    --------
    >>> import argparse
    >>> parser = argparse.ArgumentParser(prog="mcvd")
    >>> add_ber_parser(parser.add_subparsers(dest="command"))
    >>> a = parser.parse_args(["ber", "s.json", "--symbol-duration", "1", "--molecules", "1000"])
    >>> a.func is cmd_ber, a.memory, a.p1, a.model, a.threshold
    (True, '10', '0.5', 'exact', None)
    """
    p = sub.add_parser(
        "ber",
        help="bit error rate of on-off keying with a threshold detector",
        description=(
            "Bit error rate of on-off keying over the scenario's channel: a bit 1 releases N "
            "molecules at the start of its slot, the receiver counts the molecules it absorbs "
            "in the slot and decides 1 iff the count reaches the threshold. The count law is "
            "exact (binomial terms and ISI mixtures, earlier bits averaged out); the other "
            "transmitters of the scenario interfere with their own random bits. The scenario's "
            "molecule counts are ignored (--molecules sets N)."
        ),
    )
    p.add_argument("scenario", help="scenario JSON file")
    p.add_argument(
        "--symbol-duration", default=None, metavar="T_S", help="symbol (slot) duration in s"
    )
    p.add_argument(
        "--symbol-durations",
        default=None,
        metavar="LIST",
        help="comma-separated symbol durations (s): a table of BER against T_s",
    )
    p.add_argument(
        "--molecules", required=True, metavar="N", help="molecules released per bit 1 (required)"
    )
    p.add_argument(
        "--threshold",
        default=None,
        metavar="K",
        help="decide 1 iff the count >= K (default: the BER-optimal threshold)",
    )
    p.add_argument(
        "--memory",
        default=str(_DEFAULTS["memory"]),
        metavar="M",
        help="ISI memory: earlier slots whose molecules are counted (default 10)",
    )
    p.add_argument("--p1", default=str(_DEFAULTS["p1"]), help="prior P(bit = 1) (default 0.5)")
    p.add_argument(
        "--model",
        default=_DEFAULTS["model"],
        help="channel model, or several comma-separated with --symbol-durations (default exact)",
    )
    p.add_argument(
        "--approximation",
        default=_DEFAULTS["approximation"],
        choices=["exact", "poisson", "gaussian"],
        help="count law: exact (default) or an approximation of it",
    )
    p.add_argument("--receiver", default="0", help="detecting receiver index (default 0)")
    p.add_argument(
        "--transmitter",
        default="0",
        help="signal transmitter index; the others interfere (default 0)",
    )
    p.add_argument("--json", action="store_true", help="print JSON instead of text (default off)")
    p.add_argument(
        "--plot",
        default=None,
        metavar="FILE",
        help="write a figure: BER against T_s (with --symbol-durations) or the count law "
        "(default none); png, pdf or svg by the file name or --format",
    )
    p.add_argument(
        "--format",
        default=None,
        metavar="{png,pdf,svg}",
        help="figure format of --plot (default: the file name's suffix, else png)",
    )
    p.add_argument("--dpi", type=int, default=200, help="resolution of a png --plot (default 200)")
    p.set_defaults(func=cmd_ber)


def _number(text: str, name: str):
    """A command-line number: int when it is written as one, else float (checked later)."""
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"--{name} must be a number, got {text!r}") from None


def _single_text(res) -> str:
    s = res.slots
    law = res.law
    how = "optimal" if res.optimal else "given"
    kind = (
        "exact count law" if law.approximation == "exact" else f"{law.approximation} approximation"
    )
    tau = res.threshold
    lines = [
        f"BER {res.ber:.3e} at threshold {tau} ({how}); model {s.model}, {kind}",
        f"  T_s {s.symbol_duration:g} s, N {law.molecules} molecules per bit 1, p1 {law.p1:g}, "
        f"memory {s.memory} slots, receiver {s.receiver}, transmitter {s.transmitter}",
        f"  false alarm P(C >= {tau} | 0) = {res.false_alarm:.3e}, "
        f"miss P(C < {tau} | 1) = {res.miss:.3e}",
        "  slot probabilities p_0..p_m: " + " ".join(f"{v:.4g}" for v in s.p),
    ]
    if s.n_interferers:
        offs = ", ".join(f"{o:g} s" for o in s.interference_offsets)
        lines.append(f"  interferers: {s.n_interferers} (release offsets {offs})")
    if math.isinf(s.tail_bound):
        lines.append(f"  neglected tail beyond the memory: {s.tail_note}")
    else:
        what = "F(inf) - F" if s.tail is not None else "at most, F(inf) - F"
        lines.append(
            f"  neglected tail {what}({(s.memory + 1) * s.symbol_duration:g} s) = "
            f"{s.tail_bound:.3g}: {s.tail_molecules(law.molecules, law.p1):.3g} expected molecules "
            "per slot from bits beyond the memory"
        )
    lines.append(
        f"  information {res.information:.6g} bits per slot = {res.information_rate:.6g} bits/s "
        f"(best threshold: {res.max_information_rate:.6g} bits/s)"
    )
    if res.ber_se is not None:
        lines.append(f"  standard error of the BER (simulated p_j): {res.ber_se:.2e}")
    return "\n".join(lines)


def cmd_ber(args) -> int:
    """Run ``mcvd ber`` (see :func:`add_ber_parser`); prints text or JSON, returns 0.

    Examples
    --------
    >>> import argparse, contextlib, io, json
    >>> from mcvd import example_path
    >>> parser = argparse.ArgumentParser(prog="mcvd")
    >>> add_ber_parser(parser.add_subparsers(dest="command"))
    >>> args = parser.parse_args(["ber", str(example_path("paper_halfspace")), "--json",
    ...                           "--symbol-duration", "1", "--molecules", "1000"])
    >>> buf = io.StringIO()
    >>> with contextlib.redirect_stdout(buf):
    ...     status = cmd_ber(args)
    >>> out = json.loads(buf.getvalue())
    >>> status, out["threshold"], f"{out['ber']:.2e}", out["memory"]
    (0, 243, '7.12e-10', 10)
    """
    from ..comm import ber, ber_vs_symbol_duration
    from ..core.scenario import load_scenario

    if (args.symbol_duration is None) == (args.symbol_durations is None):
        raise ValueError("give exactly one of --symbol-duration or --symbol-durations")
    sc = load_scenario(args.scenario)
    kw = dict(
        threshold=None if args.threshold is None else _number(args.threshold, "threshold"),
        p1=_number(args.p1, "p1"),
        approximation=args.approximation,
        receiver=_number(args.receiver, "receiver"),
        transmitter=_number(args.transmitter, "transmitter"),
    )
    molecules = _number(args.molecules, "molecules")
    memory = _number(args.memory, "memory")
    models = [m.strip() for m in args.model.split(",") if m.strip()]
    if not models:
        raise ValueError("--model must name at least one channel model")
    if args.symbol_duration is not None and len(models) == 1:
        res = ber(
            sc,
            _number(args.symbol_duration, "symbol-duration"),
            molecules,
            memory,
            model=models[0],
            **kw,
        )
        if args.plot:
            from ..comm import plot_count_law
            from ..core.plots import _savefig

            _savefig(plot_count_law(res), args.plot, dpi=args.dpi, fmt=args.format)
        print(json.dumps(res.to_dict()) if args.json else _single_text(res))
        return 0
    durations = (
        [_number(args.symbol_duration, "symbol-duration")]
        if args.symbol_duration is not None
        else parse_floats(args.symbol_durations, "symbol-durations")
    )
    sweep = ber_vs_symbol_duration(sc, durations, molecules, memory, models=models, **kw)
    if args.plot:
        from ..comm import plot_ber_sweep
        from ..core.plots import _savefig

        _savefig(plot_ber_sweep(sweep), args.plot, dpi=args.dpi, fmt=args.format)
    if args.json:
        print(json.dumps(sweep.to_dict()))
        return 0
    ref = "exact" if "exact" in models and len(models) > 1 else None
    law = "exact count law" if sweep.approximation == "exact" else f"{sweep.approximation} law"
    th = "optimal threshold" if kw["threshold"] is None else f"threshold {kw['threshold']}"
    print(
        f"BER against the symbol duration ({th}, {law}; N {sweep.molecules[0]}, "
        f"p1 {sweep.p1:g}, memory {int(sweep.memory[0])} slots)"
    )
    print(sweep.table(ref))
    return 0
