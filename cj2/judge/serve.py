"""``python launch/serve_judge.py``: the judge service, until stopped (SIGTERM / Ctrl-C)."""

from __future__ import annotations

import sys

from cj2.judge.core import Options


def serve(cfg) -> None:
    import uvicorn

    from cj2.judge.app import create_app
    from cj2.judge.config import problems
    from cj2.judge.service import JudgeService, build_backend

    found = problems(cfg)
    if found:
        print("cj2 serve_judge: the config cannot work:\n" + "\n".join(f"  - {p}" for p in found), file=sys.stderr)
        raise SystemExit(2)
    backend = build_backend(cfg.backend, cfg.judge, base_url=cfg.base_url, device=cfg.device, dtype=cfg.dtype, max_tokens=cfg.max_tokens, concurrency=cfg.concurrency)
    defaults = Options(both_orders=cfg.both_orders, ties=cfg.ties, constrained=cfg.constrained, timeout_s=cfg.request_timeout_s)
    service = JudgeService(backend, template=cfg.template, defaults=defaults, max_batch=cfg.max_batch, batch_wait_s=cfg.batch_wait_ms / 1000,
                           max_pending=cfg.max_pending, max_prompt_tokens=cfg.max_prompt_tokens, max_timeout_s=cfg.request_timeout_s)
    print(f"cj2 judge: {cfg.judge} ({cfg.backend}) at http://{cfg.host}:{cfg.port}: POST /v1/judge, "
          f"POST /get_reward (OpenRLHF --reward.remote_url), GET /health", file=sys.stderr, flush=True)
    try:
        uvicorn.run(create_app(service, cfg), host=cfg.host, port=cfg.port, log_level="warning")
    finally:
        service.close()
