"""Run a generated module the way the quick-test worker does: qlib initialised and the exchange
built by sflow, then ``run(init=False, exchange=…, progress=…)``. Prints the result as JSON.

    python warm_driver.py MODULE.py PROVIDER_URI
"""

from __future__ import annotations

import importlib.util
import json
import sys

from sflow.backtest import qlib_env


def main(module_path: str, provider_uri: str) -> None:
    qlib_env.init_qlib(provider_uri)
    spec = importlib.util.spec_from_file_location("generated_strategy", module_path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    start, end = module.resolve_dates(None, None)
    test = module.TEST
    exchange = qlib_env.get_exchange(
        test["universe"],
        start,
        end,
        deal_price=test["deal_price"],
        open_cost=test["open_cost"],
        close_cost=test["close_cost"],
        min_cost=test["min_cost"],
        limit_threshold=test["limit_threshold"],
    )
    steps: list[tuple[int, int, str | None]] = []
    result = module.run(
        start=start,
        end=end,
        exchange=exchange,
        progress=lambda done, total, day: steps.append((done, total, day)),
        init=False,
    )
    result["progress"] = steps
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
