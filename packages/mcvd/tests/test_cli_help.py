"""`--help` of every mcvd command shows the default of every option."""

from __future__ import annotations

import argparse

import pytest
from mcvd.cli import build_parser
from mcvd.cli._common import HelpFormatter


def _subparsers():
    parser = build_parser()
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return sub.choices


@pytest.mark.parametrize("name", sorted(_subparsers()))
def test_every_option_shows_its_default(name):
    p = _subparsers()[name]
    assert p.formatter_class is HelpFormatter
    formatter = p._get_formatter()
    for action in p._actions:
        if isinstance(action, argparse._HelpAction) or not action.option_strings:
            continue
        text = formatter._expand_help(action) if action.help else ""
        if isinstance(action, argparse._StoreTrueAction) or action.required:
            continue  # an on/off flag (off unless given), or an option that must be given
        assert "default" in text, f"mcvd {name} {action.option_strings[0]}: {text!r}"


def test_simulate_help_states_method_molecules_and_long_run_warning(capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["simulate", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "simulator (default: fixed-step)" in text
    assert "(default: the scenario's, split over its transmitters in proportion)" in text
    assert "warn with their estimated time first" in text and "--force" in text
    assert "(default: 0.001) [event]" in text and "root seed (default: 0)" in text


def test_parser_errors_are_one_line(capsys):
    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args(["capture", "s.json", "--tol", "nan"])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "mcvd: error: argument --tol: must be between 1e-15 and 1e-2, got 'nan' "
        "(see mcvd capture --help)"
    ]
