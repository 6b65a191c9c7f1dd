"""`inferchain job submit | status | result | cancel | dispute` for users."""

from __future__ import annotations

import time
from dataclasses import asdict
from pathlib import Path

import typer

from inferchain.cli._network import (
    IpfsApiOpt,
    Target,
    market_options,
    parse_amount,
)
from inferchain.cli.output import JsonOption, emit
from inferchain.market import JobRecord
from inferchain.market.modes import parse_mode
from inferchain.wallet import DisputeRoundOpened, encode_input

app = typer.Typer(help="Submit inference jobs and follow them.", no_args_is_help=True)

JobId = typer.Argument(..., min=1, help="Job id.")


def _progress(as_json: bool):  # type: ignore[no-untyped-def]
    def show(record: JobRecord) -> None:
        state = record.outcome.value if record.outcome else record.status.name.lower()
        typer.echo(f"job {record.job_id}: {state}", err=True)

    return (lambda _r: None) if as_json else show


def _render(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return f"<{len(data)} bytes of binary output; use --out FILE>"


@app.command()
@market_options()
def submit(
    model: int = typer.Option(..., "--model", "-m", min=1, help="Model id."),
    input_: str = typer.Option(
        ..., "--input", "-i", help="A file path, a JSON object, or plain text (text models)."
    ),
    max_price: str | None = typer.Option(
        None, "--max-price", help="Refuse if the model costs more (e.g. 0.01eth)."
    ),
    work_time: int = typer.Option(600, "--work-time", min=1, help="Seconds a worker gets."),
    ttl: int = typer.Option(3600, "--ttl", min=60, help="Seconds the job waits for a worker."),
    verify: str = typer.Option(
        "none",
        "--verify",
        help="Verification tier: none (mode 0: paid after the challenge window unless you "
        "dispute; a dispute costs a bond and the committee's fee, and a committee drawn from "
        "the reexec pool re-runs the job; `manual` is the same mode where a key rules "
        "disputes), zk (a proof checked on-chain, paid at submission; models published with a "
        "circuit), reexec (a drawn committee of staked verifiers re-runs every job and votes; "
        "ETH-priced models), or a mode id.",
    ),
    wait: bool = typer.Option(False, "--wait", help="Follow the job and print the result."),
    timeout: float = typer.Option(600.0, "--timeout", min=1, help="Seconds to --wait."),
    out: Path | None = typer.Option(None, "--out", help="With --wait: write the result here."),
    target: Target = Target(),
    ipfs_api: str = IpfsApiOpt,
    as_json: bool = JsonOption,
) -> None:
    """Check the input against the model's limits (its bundle on IPFS), pin it, pay for
    the job (escrowed until the result is final), create it."""
    try:
        verification = parse_mode(verify)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--verify") from exc
    _conn, client = target.client(signs=True, ipfs_api=ipfs_api)
    path = Path(input_)
    is_file = path.is_file()
    data = path.read_bytes() if is_file else encode_input(client.model(model).task, input_)
    limit = parse_amount(max_price) if max_price is not None else None
    sent = client.submit(
        model, data, max_price=limit, work_time=work_time, ttl=ttl, verification=verification
    )
    info = {
        "job_id": sent.job_id,
        "input_cid": sent.input_cid,
        "price": sent.price,
        "token": sent.token,
        "tx": sent.tx_hash,
        "verification": verification,
    }
    quote = client.dispute_terms(model, verification)
    dispute_line = ""
    if quote is not None and quote.disputes:
        info["dispute"] = {
            "bond": quote.dispute_bond,
            "bond_bps": quote.dispute_bond_bps,
            "committee_fee": quote.dispute_fee,
            "judged_by": quote.disputes,
        }
        dispute_line = "\n" + _dispute_cost(quote.dispute_bond, quote.dispute_fee, quote.disputes)
    if not wait:
        emit(
            info,
            f"job {sent.job_id} created (input {sent.input_cid}, tx {sent.tx_hash})" + dispute_line,
            as_json,
        )
        return
    if not as_json:
        typer.echo(
            f"job {sent.job_id} created (tx {sent.tx_hash}); waiting for a worker…", err=True
        )
    client.wait(sent.job_id, timeout=timeout, on_change=_progress(as_json))
    cid, output = client.result(sent.job_id)
    _emit_result(sent.job_id, cid, output, out, as_json, extra=info)


def _emit_result(
    job_id: int, cid: str, output: bytes, out: Path | None, as_json: bool, extra: dict | None = None
) -> None:
    data = {**(extra or {}), "job_id": job_id, "output_cid": cid, "verified": True}
    if out is not None:
        out.write_bytes(output)
        data["written_to"] = str(out)
        emit(data, f"result of job {job_id} ({cid}, verified) written to {out}", as_json)
        return
    data["output"] = _render(output)
    emit(data, data["output"], as_json)


@app.command()
@market_options(keystore=False)
def status(
    job_id: int = JobId,
    target: Target = Target(),
    as_json: bool = JsonOption,
) -> None:
    """Where a job stands (from contract state and its events)."""
    _conn, client = target.client()
    info = client.status(job_id)
    lines = [f"job {job_id}: {info['outcome'] or info['status']}"]
    lines += [
        f"  {k}: {v}"
        for k, v in info.items()
        if k not in ("job_id", "dispute_round") and v is not None
    ]
    if "dispute_round" in info:
        lines.append(_round_status(job_id, info["dispute_round"]))
    emit(info, "\n".join(lines), as_json)


def _round_status(job_id: int, found: dict | None) -> str:
    """The committee's dispute round, for `job status`."""
    if found is None:
        return (
            "  dispute round: not opened (no committee decides without one: "
            f"`inferchain job dispute {job_id} --round-only`)"
        )
    committee = ", ".join(found["committee"]) or "not drawn yet"
    return "\n".join([
        f"  dispute round: {found['stage']}, opened {_when(found['opened_at'])}, "
        f"fee {found['fee']} wei",
        f"    committee: {committee}",
        f"    votes: {found['committed']} committed, {found['revealed']} revealed "
        f"({found['agrees']} for the worker, {found['disagrees']} against), "
        f"reveals close {_when(found['reveal_deadline'])}",
        f"    verdict: {found['verdict'].replace('_', ' ')}",
    ])  # fmt: skip


@app.command()
@market_options(keystore=False)
def result(
    job_id: int = JobId,
    out: Path | None = typer.Option(None, "--out", help="Write the output to this file."),
    timeout: float = typer.Option(60.0, "--timeout", min=1, help="Seconds for the IPFS fetch."),
    target: Target = Target(),
    ipfs_api: str = IpfsApiOpt,
    as_json: bool = JsonOption,
) -> None:
    """Fetch a job's output from IPFS, verified against the CID the worker put on-chain."""
    _conn, client = target.client(ipfs_api=ipfs_api)
    cid, output = client.result(job_id, timeout=timeout)
    _emit_result(job_id, cid, output, out, as_json)


@app.command()
@market_options()
def cancel(
    job_id: int = JobId,
    target: Target = Target(),
    as_json: bool = JsonOption,
) -> None:
    """Take back a job no worker claimed yet (refunded to your market balance)."""
    _conn, client = target.client(signs=True)
    tx = client.cancel(job_id)
    emit(
        {"job_id": job_id, "tx": tx},
        f"job {job_id} cancelled; the price is in your market balance (tx {tx})",
        as_json,
    )


def _dispute_cost(bond: int, fee: int, judged_by: str) -> str:
    if judged_by == "committee":
        return (
            f"to dispute its result: a bond of {bond} (back if you win or nobody decides) "
            f"and the committee's fee of {fee} wei, within the challenge window"
        )
    return f"to dispute its result: a bond of {bond}, within the challenge window"


def _when(timestamp: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(timestamp))


def _round_text(job_id: int, opened: DisputeRoundOpened) -> str:
    paid = (
        "by another account, which paid its fee"
        if opened.by_another
        else f"fee {opened.fee} wei paid (tx {opened.tx_hash})"
    )
    return (
        f"dispute round opened: {paid}. "
        f"{opened.committee_size} verifiers drawn from the pool re-run the job and vote by "
        f"{_when(opened.verdict_by)}; once a majority is in, anyone resolves the dispute "
        f"(`inferchain job status {job_id}` shows the votes). Without a majority by "
        f"{_when(opened.arbitration_deadline)} the dispute expires: the result stands and "
        "the bond comes back"
    )


@app.command()
@market_options()
def dispute(
    job_id: int = JobId,
    round_only: bool = typer.Option(
        False,
        "--round-only",
        help="Only open the committee's dispute round of a job already disputed (e.g. when "
        "opening it failed); anyone may, paying the committee's fee.",
    ),
    target: Target = Target(),
    as_json: bool = JsonOption,
) -> None:
    """Contest a submitted result within its challenge window: pays the dispute bond and,
    where a committee judges the job's tier (`none`), opens its dispute round (pays the
    committee's fee). Everything is checked before anything is sent."""
    _conn, client = target.client(signs=True)
    if round_only:
        opened = client.open_dispute_round(job_id)
        round_ = asdict(opened)
        round_["tx"] = round_.pop("tx_hash")
        emit(
            {"job_id": job_id, "round": round_},
            f"job {job_id}: " + _round_text(job_id, opened),
            as_json,
        )
        return
    done = client.dispute(job_id)
    data = asdict(done)
    data["tx"] = data.pop("tx_hash")
    lines = [f"job {job_id} disputed with a bond of {done.bond} (tx {done.tx_hash})"]
    if done.round is not None:
        lines.append(_round_text(job_id, done.round))
    else:
        lines.append(
            f"its tier's arbiter rules the dispute by {_when(done.arbitration_deadline)}; "
            "without a ruling by then the result stands and the bond comes back"
        )
    emit(data, "\n".join(lines), as_json)


@app.command()
@market_options()
def deliver(
    job_id: int = JobId,
    target: Target = Target(),
    as_json: bool = JsonOption,
) -> None:
    """Run a paid job's callback and earn its callback fee (anyone may; after one day the
    callback is skipped and the fee goes back to the requester)."""
    _conn, client = target.client(signs=True)
    info = client.deliver(job_id)
    if info["delivered"]:
        ran = "ran" if info["success"] else "ran and failed (the consumer reverted)"
        text = f"job {job_id}: callback {ran}; fee {info['fee']} credited to you (tx {info['tx']})"
    else:
        text = (
            f"job {job_id}: delivery window passed; the callback was skipped and its fee "
            f"{info['fee']} refunded to the requester (tx {info['tx']})"
        )
    emit(info, text, as_json)
