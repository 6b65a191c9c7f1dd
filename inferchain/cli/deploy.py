"""`inferchain deploy --network NAME [--dry-run] [--verify-json DIR]`."""

from __future__ import annotations

from pathlib import Path

import typer

from inferchain.cli._network import (
    DeploymentsOpt,
    KeystoreOpt,
    NetworkOpt,
    NetworksFileOpt,
    format_eth,
    prompt_password,
)
from inferchain.cli.output import JsonOption, emit
from inferchain.deploy import (
    DeployReport,
    Proposal,
    ProposalState,
    connect_chain,
    deploy_network,
    deployments_dir,
    load_network,
    read_record,
    write_verification_inputs,
)
from inferchain.wallet import resolve_key


def deploy(
    network: str | None = NetworkOpt,
    networks_file: Path | None = NetworksFileOpt,
    deployments: Path | None = DeploymentsOpt,
    keystore: Path | None = KeystoreOpt,
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Estimate gas and cost of the missing steps; send nothing."
    ),
    verify_json: Path | None = typer.Option(
        None,
        "--verify-json",
        help="Write each contract's standard-JSON verification input into this directory.",
    ),
    as_json: bool = JsonOption,
) -> None:
    """Deploy the market contracts; a re-run skips everything already in place and turns a
    changed fee, bond, token list, guardian or delay into a timelock operation (scheduled,
    then executed by a rerun once ready), never a direct setter."""
    entry = load_network(network, networks_file)
    chain = connect_chain(entry)
    key = resolve_key(
        keystore=keystore, allow_plain_key=entry.local, network=entry.name, prompt=prompt_password
    )
    directory = deployments_dir(deployments)
    say = (lambda _m: None) if as_json else (lambda m: typer.echo(m, err=True))
    report = deploy_network(
        chain, chain.sender(key), entry, directory, dry_run=dry_run, on_progress=say
    )
    data = report.to_dict()
    if verify_json is not None:
        record = read_record(directory, chain.chain_id)
        if record is None:
            raise typer.BadParameter("nothing deployed yet to verify", param_hint="--verify-json")
        data["verification_inputs"] = [
            str(p) for p in write_verification_inputs(record, verify_json)
        ]
    emit(data, _human(report, data.get("verification_inputs")), as_json)


def _human(report: DeployReport, verification: list[str] | None) -> str:
    where = f"{report.network} (chain {report.chain_id}) from {report.deployer}"
    if not report.steps:
        lines = [f"{where}: everything is deployed and wired; nothing to do"]
    elif report.dry_run:
        lines = [f"dry run on {where}: {len(report.steps)} transactions"]
        lines += [
            f"  {s.name:42} {s.gas:>10,} gas{'' if s.simulated else ' (allowance)'}"
            for s in report.steps
        ]
        lines.append(
            f"total {report.total_gas:,} gas x {report.gas_price:,} wei = "
            f"{format_eth(report.cost_wei)}"
        )
    else:
        lines = [f"deployed on {where}: {len(report.steps)} transactions"]
        lines += [f"  {s.name:42} {s.tx_hash} (block {s.block})" for s in report.steps]
        lines.append(f"record: {report.record_path}")
    lines += [f"  {name:16} {address}" for name, address in sorted(report.addresses.items())]
    lines += [_proposal_line(p) for p in report.proposals]
    lines += [f"note: {note}" for note in report.notes]
    if verification:
        lines.append("verification inputs: " + ", ".join(verification))
    return "\n".join(lines)


def _proposal_line(p: Proposal) -> str:
    """One governance change: what differs and where its timelock operation stands."""
    head = f"governance: {p.name} {p.current} -> {p.wanted}: {p.state}"
    if p.state == ProposalState.FOR_PROPOSER:
        op = p.operation
        return (
            f"{head}; the proposer must schedule target {op.target} data 0x{op.data.hex()} "
            f"salt 0x{op.salt.hex()} (or run `inferchain governance propose`)"
        )
    if p.ready_at:
        return f"{head} (executable from {p.ready_at}; rerun `inferchain deploy` then)"
    return head
