"""Chart.js settings for the console's charts (unfold draws them from data attributes).

unfold's defaults hide the legend and overlap bars; a marketer reading two series needs
both a legend and bars side by side, and rates and money on their own axes.
"""

from __future__ import annotations

import json
from typing import Any

_MUTED = "#9ca3af"


def _axis(
    *, position: str = "left", title: str = "", grid: bool = True
) -> dict[str, Any]:
    return {
        "position": position,
        "beginAtZero": True,
        "border": {"width": 0},
        "grid": {"display": grid, "color": "rgba(156,163,175,0.2)"},
        "ticks": {"color": _MUTED},
        "title": {"display": bool(title), "text": title, "color": _MUTED},
    }


def chart_options(
    *, left: str = "", right: str | None = None, bars: bool = False
) -> str:
    """JSON options: a legend, an x axis of days, `left` (and optionally `right`) y axes."""
    scales: dict[str, Any] = {
        "x": {
            "grid": {"display": False},
            "border": {"width": 0},
            "ticks": {"color": _MUTED},
        },
        "y": _axis(title=left),
    }
    if right is not None:
        scales["y1"] = _axis(position="right", title=right, grid=False)
    options: dict[str, Any] = {
        "animation": False,
        "responsive": True,
        "maintainAspectRatio": False,
        "spanGaps": True,
        "plugins": {
            "legend": {
                "display": True,
                "align": "end",
                "position": "top",
                "labels": {
                    "color": _MUTED,
                    "usePointStyle": True,
                    "boxHeight": 6,
                    "boxWidth": 6,
                },
            },
            "tooltip": {"enabled": True},
        },
        "scales": scales,
    }
    if bars:
        options["datasets"] = {"bar": {"borderRadius": 3, "maxBarThickness": 14}}
    else:
        options["datasets"] = {"line": {"borderWidth": 2, "pointRadius": 2}}
    return json.dumps(options)
