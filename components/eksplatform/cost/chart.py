"""The cost report as a PNG chart (matplotlib, the ``chart`` extra of the library): per node
pool the on-demand and spot cost per month at min, typical and max size beside the all-on-demand
baseline, and per service its cost per month at minimum and maximum replicas.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def write_chart(report: dict[str, Any], path: Path) -> None:
    """Draw ``report`` (:func:`~eksplatform.cost.report.build_report`) to ``path``."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as err:  # the optional dependency
        raise RuntimeError("the chart needs matplotlib: pip install 'eksplatform[chart]'") from err

    hours = report["prices"]["hoursPerMonth"]
    fig, (pools_ax, svc_ax) = plt.subplots(1, 2, figsize=(13, 5.4), dpi=100)
    labels: list[str] = []
    od: list[float] = []
    spot: list[float] = []
    base: list[float] = []
    for pool in report["pools"]:
        for s in pool["sizes"]:
            labels.append(f"{pool['name']}\n{s['size']} ({s['nodes']})")
            od_price = pool["onDemandPrice"] * s["onDemand"] * hours
            od.append(od_price)
            spot.append(s["monthly"] - od_price)
            base.append(s["baselineMonthly"])
    xs = list(range(len(labels)))
    pools_ax.bar(xs, od, color="tab:blue", label="on-demand")
    pools_ax.bar(xs, spot, bottom=od, color="tab:orange", label="spot")
    pools_ax.scatter(xs, base, marker="_", s=600, color="black", label="all on-demand")
    pools_ax.set_xticks(xs, labels, fontsize=8)
    pools_ax.set_ylabel("USD per month")
    pools_ax.set_title(f"Node pools of {report['stack']}: spot vs on-demand")
    pools_ax.legend(fontsize=8)

    services = report["services"]
    names = [f"{s['namespace']}/{s['service']}" for s in services]
    ys = list(range(len(names)))
    svc_ax.barh(
        [y - 0.2 for y in ys], [s["monthlyAtMin"] for s in services], 0.4, label="at min replicas"
    )
    svc_ax.barh(
        [y + 0.2 for y in ys], [s["monthlyAtMax"] for s in services], 0.4, label="at max replicas"
    )
    alloc = report["allocationAtTypical"]
    svc_ax.set_yticks(ys, names, fontsize=8)
    svc_ax.set_xlabel("USD per month")
    svc_ax.set_title(
        f"Services (platform overhead {alloc['platformOverhead'] * hours:,.0f} USD/month at typical)"
    )
    svc_ax.legend(fontsize=8)
    fig.suptitle(f"Prices of {report['prices']['date']} ({report['region']})", fontsize=9)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
