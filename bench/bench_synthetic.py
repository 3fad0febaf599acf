"""Benchmark: how fast the vectorised generator makes farms, and at what memory.

Each size runs in a fresh process so its peak resident memory is its own. A
row-by-row baseline (Faker and ``random`` per farm, field, herd and weekly
soil-moisture reading, the obvious first implementation) is timed on a small
count in the same run and scaled linearly.

    python bench/bench_synthetic.py --sizes 1000 100000 1000000
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_SIZES = (1_000, 100_000, 1_000_000)
BASELINE_FARMS = 5_000


def measure(farms: int, workers: int) -> dict[str, float]:
    """Generate ``farms`` farms in this process; report time, rows and peak memory."""
    from synthetic.generator import generate

    start = time.perf_counter()
    tables = generate(42, farms, workers=workers)
    seconds = time.perf_counter() - start
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if workers > 1:
        children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        peak_kib = max(peak_kib, children)
    return {
        "farms": farms,
        "seconds": seconds,
        "peak_mib": peak_kib / 1024,
        "rows": sum(len(frame) for frame in tables.values()),
        "fields": len(tables["fields"]),
        "readings": len(tables["soil_moisture"]),
    }


def naive_seconds_per_farm(farms: int = BASELINE_FARMS) -> float:
    """Time a row-by-row generator of farms, fields and herds, per farm."""
    import pandas as pd
    from faker import Faker

    from synthetic import regions

    fake = Faker("az_AZ")
    fake.seed_instance(42)
    rng = random.Random(42)
    start = time.perf_counter()
    farm_rows, field_rows, herd_rows, reading_rows = [], [], [], []
    for number in range(1, farms + 1):
        region = rng.choice(regions.REGIONS)
        district = rng.choice(region.districts)
        farm_id = f"AZ-{number:06d}"
        total = round(rng.lognormvariate(1.1, 1.0), 2) + 0.1
        farm_rows.append(
            {
                "farm_id": farm_id,
                "owner": fake.name(),
                "region": region.name,
                "district": district.name,
                "latitude": rng.uniform(region.box.lat_min, region.box.lat_max),
                "longitude": rng.uniform(region.box.lon_min, region.box.lon_max),
                "total_area_ha": total,
            }
        )
        crops, weights = zip(*region.crops.items(), strict=True)
        for ordinal in range(1, rng.randint(1, 6) + 1):
            field_id = f"{farm_id}-F{ordinal}"
            sowing = date(2025, 4, 10) + timedelta(days=rng.randint(0, 35))
            harvest = sowing + timedelta(days=rng.randint(120, 180))
            field_rows.append(
                {
                    "field_id": field_id,
                    "farm_id": farm_id,
                    "crop": rng.choices(crops, weights)[0],
                    "area_ha": round(total / 6, 2),
                    "sowing_date": sowing,
                    "harvest": harvest,
                }
            )
            for week in range((harvest - sowing).days // 7 + 1):
                reading = round(min(max(rng.gauss(25, 6), 0.0), 60.0), 1)
                day = sowing + timedelta(days=7 * week)
                reading_rows.append((field_id, day, reading))
        for species in regions.SPECIES:
            if rng.random() < 0.3:
                herd_rows.append((farm_id, species, rng.randint(1, 40)))
    for rows in (farm_rows, field_rows, herd_rows, reading_rows):
        pd.DataFrame(rows)
    return (time.perf_counter() - start) / farms


def _run_child(farms: int, workers: int) -> dict[str, float]:
    command = [
        sys.executable,
        __file__,
        "--child",
        str(farms),
        "--workers",
        str(workers),
    ]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(DEFAULT_SIZES))
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child, args.workers)))
        return

    per_farm = naive_seconds_per_farm()
    print(
        f"row-by-row baseline: {per_farm * 1e6:.1f} µs per farm "
        f"(measured on {BASELINE_FARMS:,} farms)"
    )
    print(
        f"{'farms':>10} {'seconds':>8} {'peak MiB':>9} {'rows':>11} "
        f"{'readings':>11} {'baseline s':>11} {'speed-up':>8}"
    )
    for farms in args.sizes:
        result = _run_child(farms, args.workers)
        baseline = per_farm * farms
        print(
            f"{farms:>10,} {result['seconds']:>8.2f} {result['peak_mib']:>9.0f} "
            f"{result['rows']:>11,} {result['readings']:>11,} {baseline:>11.1f} "
            f"{baseline / result['seconds']:>7.1f}x"
        )
    sizes = " ".join(str(size) for size in args.sizes)
    print(
        f"rerun: python bench/bench_synthetic.py --sizes {sizes} "
        f"--workers {args.workers}"
    )


if __name__ == "__main__":
    main()
