"""The capacity timeline as a PNG chart (matplotlib, the ``chart`` extra of the library).

Demand and each scenario's ready capacity over time around the push, at the recommended lead
time, with the reactive lag marked. ``make capacity-chart`` regenerates the copy the README
shows (``docs/prescale-timeline.png``).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from .capacity import (
    PRESCALED,
    PRESCALED_HEADROOM,
    REACTIVE,
    CapacityParams,
    recommend_lead,
    run_all,
)

_STYLE = {
    REACTIVE: ("tab:red", "-", "reactive HPA + Cluster Autoscaler"),
    PRESCALED: ("tab:orange", "--", "pre-scaled HPA"),
    PRESCALED_HEADROOM: ("tab:green", "-", "pre-scaled HPA + headroom"),
}


def write_chart(p: CapacityParams, path: Path) -> int | None:
    """Draw the chart at the recommended lead (``p.lead_seconds`` when none suffices); returns
    the recommended lead."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as err:  # the optional dependency
        raise RuntimeError("the chart needs matplotlib: pip install 'eksplatform[chart]'") from err

    lead = recommend_lead(p)
    at = replace(p, lead_seconds=lead if lead is not None else p.lead_seconds)
    outcomes = run_all(at)
    fig, ax = plt.subplots(figsize=(10, 5.2), dpi=100)
    first = outcomes[REACTIVE]
    start = -at.lead_seconds - 30
    keep = [i for i, t in enumerate(first.times) if start <= t <= 300]
    times = [first.times[i] for i in keep]
    ax.plot(times, [first.demand[i] for i in keep], color="black", lw=2.2, label="demand")
    for name, outcome in outcomes.items():
        colour, dash, label = _STYLE[name]
        over = outcome.requests_over_capacity
        text = f"{label}: {over:,} requests over capacity"
        ax.plot(
            times, [outcome.capacity[i] for i in keep], color=colour, ls=dash, lw=1.8, label=text
        )
    lag = first.ready_at
    if lag:
        ax.axvspan(0, lag, color="tab:red", alpha=0.08)
        ax.annotate(
            f"reactive lag {lag} s",
            xy=(lag, at.baseline_rps * at.spike),
            xytext=(lag + 15, at.baseline_rps * at.spike * 0.45),
            arrowprops={"arrowstyle": "->", "color": "tab:red"},
            color="tab:red",
        )
    ax.axvline(0, color="grey", lw=1)
    ax.text(3, ax.get_ylim()[1] * 0.02, "push sent", color="grey", va="bottom")
    ax.axvline(-at.lead_seconds, color="tab:green", lw=1, ls=":")
    ax.text(
        -at.lead_seconds + 2,
        ax.get_ylim()[1] * 0.96,
        f"pre-scale event\n({at.lead_seconds} s lead)",
        color="tab:green",
        va="top",
    )
    ax.set_xlabel("seconds relative to the push send time")
    ax.set_ylabel("requests per second")
    ax.set_title(
        f"{at.spike:g}x push spike: capacity over time "
        f"(recommended lead time {lead if lead is not None else 'none'} s)"
    )
    ax.legend(loc="center left", bbox_to_anchor=(0.01, 0.45), fontsize=8.5)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, metadata={"Software": None})
    plt.close(fig)
    return lead
