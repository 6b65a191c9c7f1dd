"""`inferchain governance show`: who governs the market, with which terms, holding what."""

from __future__ import annotations

from typing import Any

from inferchain.cli._governance import Governance
from inferchain.market import ETH


def _proposers(gov: Governance) -> list[str]:
    """Accounts granted the proposer role since deployment that still hold it."""
    role = bytes(gov.read(gov.timelock.functions.PROPOSER_ROLE()))
    granted = gov.timelock.events.RoleGranted().get_logs(
        from_block=gov.market.addresses.deployed_block, argument_filters={"role": role}
    )
    accounts = dict.fromkeys(log["args"]["account"] for log in granted)
    return [a for a in accounts if gov.read(gov.timelock.functions.hasRole(role, a))]


def snapshot(gov: Governance) -> dict[str, Any]:
    """Everything `show` prints, read at the latest block."""
    jobs, g, t = gov.jobs.functions, gov.governor.functions, gov.timelock.functions
    since = gov.market.addresses.deployed_block
    fee_bps, collateral_bps, bond_bps = gov.read(jobs.config())
    mode_ids = sorted(
        {int(e["args"]["id"]) for e in gov.jobs.events.ModeRegistered().get_logs(from_block=since)}
    )
    modes = []
    for mode_id in mode_ids:
        m = gov.mode(mode_id)
        modes.append({"id": mode_id, "module": m.module, "challenge_window": m.challenge_window,
                      "arbitration_window": m.arbitration_window, "hooks": m.hooks,
                      "enabled": m.enabled})  # fmt: skip
    seen = dict.fromkeys(
        e["args"]["token"] for e in gov.jobs.events.TokenAllowed().get_logs(from_block=since)
    )
    tokens = {token: bool(gov.read(jobs.isTokenAllowed(token))) for token in seen}
    executor = bytes(gov.read(t.EXECUTOR_ROLE()))
    return {
        "governor": gov.governor.address,
        "owner": gov.read(g.owner()),
        "pending_owner": gov.read(g.pendingOwner()),
        "timelock": gov.timelock.address,
        "delay": int(gov.read(t.getMinDelay())),
        "proposers": _proposers(gov),
        "anyone_executes": bool(gov.read(t.hasRole(executor, ETH))),
        "guardian": gov.read(g.guardian()),
        "market": gov.jobs.address,
        "config": {
            "fee_bps": fee_bps,
            "collateral_bps": collateral_bps,
            "dispute_bond_bps": bond_bps,
        },
        "paused": bool(gov.read(jobs.paused())),
        "modes": modes,
        "tokens": tokens,
        "fees": {
            token: int(gov.read(jobs.balanceOf(gov.governor.address, token)))
            for token in (ETH, *seen)
        },
        "pending_operations": len(gov.pending()),
    }


def human(data: dict[str, Any]) -> str:
    lines = [
        f"governor   {data['governor']} (owner {data['owner']})",
        f"timelock   {data['timelock']}: delay {data['delay']} s; proposers "
        f"{', '.join(data['proposers']) or 'none'}; executes: "
        f"{'anyone' if data['anyone_executes'] else 'executors only'}",
        f"guardian   {data['guardian']}",
        f"market     {data['market']}: fee {data['config']['fee_bps']} bps, collateral "
        f"{data['config']['collateral_bps']} bps, dispute bond "
        f"{data['config']['dispute_bond_bps']} bps{', PAUSED' if data['paused'] else ''}",
    ]
    if data["pending_owner"] != ETH:
        lines.insert(1, f"           ownership offered to {data['pending_owner']}")
    for m in data["modes"]:
        lines.append(
            f"mode {m['id']:<5} {m['module']}: challenge {m['challenge_window']} s, arbitration "
            f"{m['arbitration_window']} s, {'enabled' if m['enabled'] else 'disabled'}"
        )
    for token, allowed in data["tokens"].items():
        lines.append(f"token      {token}: {'allowed' if allowed else 'not allowed'}")
    for token, amount in data["fees"].items():
        lines.append(f"fees       {amount} {'wei' if token == ETH else 'units of ' + token}")
    lines.append(f"pending    {data['pending_operations']} (`inferchain governance pending`)")
    return "\n".join(lines)
