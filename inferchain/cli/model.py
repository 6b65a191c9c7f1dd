"""`inferchain model validate | import-hf | publish | register | update | rates | deactivate |
activate`."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import typer

from inferchain.bundle import load_bundle, publish_bundle
from inferchain.cli._network import (
    Target,
    market_options,
    parse_amount,
)
from inferchain.cli._zk import (
    ZkModuleOpt,
    ZkWorkOpt,
    check_recorded,
    is_zk_bundle,
    prepare_and_deploy,
    register_verifier,
)
from inferchain.cli.output import JsonOption, emit
from inferchain.ipfs import Cid, InvalidCid, IpfsClient
from inferchain.market import ETH, ModelSpec
from inferchain.market.metering import Rates

app = typer.Typer(
    help="Model bundles (validate, publish) and their on-chain registration.", no_args_is_help=True
)

BundleDir = typer.Argument(
    ..., exists=True, file_okay=False, dir_okay=True, help="Bundle directory (with manifest.json)."
)
BaseRateOpt = typer.Option(None, "--base", help="Metered: per job, e.g. 1000 or 0.0001eth.")
PerInputOpt = typer.Option(None, "--per-input-token", help="Metered: per prompt token.")
PerOutputOpt = typer.Option(None, "--per-output-token", help="Metered: per generated token.")
IpfsApi = typer.Option(
    "http://127.0.0.1:5001", "--ipfs-api", envvar="INFERCHAIN_IPFS_API", help="IPFS RPC API URL."
)


@app.command()
def validate(directory: Path = BundleDir, as_json: bool = JsonOption) -> None:
    """Check manifest, file hashes and tensor shapes; print what the bundle holds."""
    bundle = load_bundle(directory)
    manifest = bundle.manifest
    data = {
        "name": manifest.name,
        "version": manifest.version,
        "task": manifest.task,
        "runtime": manifest.runtime,
        "license": manifest.license,
        "size": bundle.size,
        "manifest_sha256": bundle.manifest_sha256,
    }
    human = (
        f"ok: {manifest.name} {manifest.version} ({manifest.task}, {manifest.runtime}), "
        f"{bundle.size} bytes, manifest sha256 {bundle.manifest_sha256}"
    )
    emit(data, human, as_json)


@app.command()
@market_options()
def publish(
    directory: Path = BundleDir,
    ipfs_api: str = IpfsApi,
    timeout: float = typer.Option(120.0, "--timeout", min=1, help="Seconds for the upload."),
    zk_work: Path | None = ZkWorkOpt,
    target: Target = Target(),
    as_json: bool = JsonOption,
) -> None:
    """Validate DIRECTORY, pin it to IPFS (CID checked locally), print CID and manifest hash.

    A bundle with a `zk` section first gets its circuit (built if missing, checked against the
    weights) and its verifier (deployed on --network, address recorded in the manifest).
    """
    zk = None
    if is_zk_bundle(directory):
        zk = prepare_and_deploy(directory, zk_work, target)
    with IpfsClient(ipfs_api, timeout=timeout) as ipfs:
        published = publish_bundle(ipfs, directory)
    human = (
        f"published {published.name} {published.version} ({published.size} bytes)\n"
        f"bundle cid:      {published.cid}\n"
        f"manifest sha256: {published.manifest_sha256}"
    )
    if zk is not None:
        human += f"\nzk verifier:     {zk['verifier']['address']}"  # type: ignore[index]
    emit(asdict(published) | ({"zk": zk} if zk else {}), human, as_json)


@app.command("import-hf")
def import_hf_command(
    source: Path = typer.Argument(
        ..., exists=True, file_okay=False, dir_okay=True, help="A save_pretrained directory."
    ),
    out: Path = typer.Option(..., "--out", help="Bundle directory to create (empty or new)."),
    task: str | None = typer.Option(
        None,
        "--task",
        help="text-generation, text-classification or embeddings; "
        "default: from config.json's architectures.",
    ),
    dtype: str | None = typer.Option(
        None, "--dtype", help="float32, bfloat16 or float16; default: the config's dtype."
    ),
    name: str | None = typer.Option(None, "--name", help="Bundle name; default: SOURCE's name."),
    version: str = typer.Option("1.0.0", "--version"),
    license: str = typer.Option("other", "--license", help="SPDX id of the weights' licence."),
    as_json: bool = JsonOption,
) -> None:
    """Turn a Hugging Face model directory (safetensors only) into an hf-transformers bundle."""
    from inferchain.bundle.hf_import import import_hf  # imports torch and transformers

    bundle = import_hf(
        source, out, task=task, dtype=dtype, name=name, version=version, license=license
    )
    manifest = bundle.manifest
    limits = bundle.config()["limits"]
    data = {
        "path": str(bundle.path),
        "name": manifest.name,
        "version": manifest.version,
        "task": manifest.task,
        "runtime": manifest.runtime,
        "dtype": manifest.dtype,
        "context_length": limits["context_length"],
        "max_new_tokens": limits["max_new_tokens"],
        "size": bundle.size,
        "manifest_sha256": bundle.manifest_sha256,
    }
    human = (
        f"ok: {manifest.name} {manifest.version} ({manifest.task}, {manifest.runtime}, "
        f"{manifest.dtype}) in {bundle.path}, context {limits['context_length']} tokens, "
        f"{bundle.size} bytes, manifest sha256 {bundle.manifest_sha256}"
    )
    emit(data, human, as_json)


# -- on-chain registration (providers) ---------------------------------------------------


@app.command()
@market_options()
def register(
    cid: str = typer.Option(..., "--cid", help="Bundle CID from `inferchain model publish`."),
    manifest_sha256: str = typer.Option(..., "--manifest-sha256", help="From `model publish`."),
    task: str = typer.Option(..., "--task", help="e.g. text-generation"),
    price: str = typer.Option(..., "--price", help="Per job, e.g. 0.001eth or 1000 (units)."),
    royalty_bps: int = typer.Option(..., "--royalty-bps", min=0, max=10_000),
    token: str = typer.Option(ETH, "--token", help="ERC-20 the model is paid in; ETH default."),
    target: Target = Target(),
    bundle: Path | None = typer.Option(
        None, "--bundle", help="The published bundle directory; with --zk-module, ZK tier."
    ),
    zk_module: str | None = ZkModuleOpt,
    base: str | None = BaseRateOpt,
    per_input_token: str | None = PerInputOpt,
    per_output_token: str | None = PerOutputOpt,
    as_json: bool = JsonOption,
) -> None:
    """Register a published bundle on-chain; you become its provider.

    With --bundle (a `zk` bundle), also set the bundle's verifier for the new model in
    ZkVerifier (once and for good): the deployment's (mode `zk`), or --zk-module's. With
    --per-input-token and --per-output-token (and optionally --base), also offer it metered
    (see `model rates`).
    """
    if zk_module is not None and bundle is None:
        raise typer.BadParameter("--zk-module needs --bundle (the published ZK bundle)")
    rates = _parse_rates(base, per_input_token, per_output_token)
    try:
        spec = ModelSpec(
            bundle_cid=Cid.parse(cid),
            manifest_sha256=bytes.fromhex(manifest_sha256.removeprefix("0x")),
            task=task,
            price=parse_amount(price),
            royalty_bps=royalty_bps,
            token=token,
        )
    except (ValueError, InvalidCid) as exc:
        raise typer.BadParameter(str(exc)) from exc
    _conn, client = target.client(signs=True)
    if bundle is not None:
        zk_module = zk_module or client.market.addresses.zk_verifier
        if zk_module is None:
            raise typer.BadParameter(
                "this deployment has no ZkVerifier: rerun `inferchain deploy`, or pass --zk-module"
            )
        check_recorded(bundle, manifest_sha256, client.chain)  # before anything is sent
    model_id, tx = client.register_model(spec)
    data: dict[str, object] = {"model_id": model_id, "tx": tx, "price": spec.price, "token": token}
    human = f"registered model {model_id} (tx {tx})"
    if bundle is not None and zk_module is not None:
        verifier = register_verifier(bundle, zk_module, model_id, client.chain, client.sender)
        data["zk_verifier"] = verifier
        human += f"\nZK verifier {verifier} set in ZkVerifier {zk_module}"
    if rates is not None:
        data["rates"] = {**asdict(rates), "tx": client.set_rates(model_id, rates)}
        human += f"\n{_describe(rates)}"
    emit(data, human, as_json)


def _parse_rates(
    base: str | None, per_input_token: str | None, per_output_token: str | None
) -> Rates | None:
    """Rates from the options (None when none is given); both per-token rates are needed."""
    if base is None and per_input_token is None and per_output_token is None:
        return None
    if per_input_token is None or per_output_token is None:
        raise typer.BadParameter("give --per-input-token and --per-output-token (and --base)")
    try:
        return Rates(
            parse_amount(base) if base is not None else 0,
            parse_amount(per_input_token),
            parse_amount(per_output_token),
        )
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc


def _describe(rates: Rates) -> str:
    return (
        f"metered: {rates.base} per job + {rates.per_input_token} per input token + "
        f"{rates.per_output_token} per output token (smallest units of its token)"
    )


ModelId = typer.Argument(..., min=1, help="Model id.")


@app.command()
@market_options()
def update(
    model_id: int = ModelId,
    price: str | None = typer.Option(None, "--price", help="New price per job."),
    royalty_bps: int | None = typer.Option(None, "--royalty-bps", min=0, max=10_000),
    target: Target = Target(),
    as_json: bool = JsonOption,
) -> None:
    """Change price and/or royalty (jobs already created keep their terms)."""
    if price is None and royalty_bps is None:
        raise typer.BadParameter("give --price and/or --royalty-bps")
    _conn, client = target.client(signs=True)
    tx = client.update_model(
        model_id, parse_amount(price) if price is not None else None, royalty_bps
    )
    emit({"model_id": model_id, "tx": tx}, f"model {model_id} updated (tx {tx})", as_json)


@app.command()
@market_options(keystore=False)
def show(
    model_id: int = ModelId,
    target: Target = Target(),
    as_json: bool = JsonOption,
) -> None:
    """A model's terms, its per-token rates if any, and what each verification tier adds to a
    job (`job submit --verify`): its fee and when the worker is paid."""
    _conn, client = target.client(signs=False)
    model = client.model(model_id)
    rates_now = client.rates(model_id)
    tiers = client.tiers(model_id)
    data = {
        **asdict(model),
        "rates": asdict(rates_now) if rates_now else None,
        "tiers": [asdict(t) for t in tiers],
    }
    lines = [
        f"model {model_id}: {model.task}, {model.price} "
        f"{'wei' if model.token == ETH else 'units of ' + model.token} per job, royalty "
        f"{model.royalty_bps} bps, {'active' if model.active else 'inactive'}",
        f"  bundle {model.bundle_cid} (provider {model.provider})",
        f"  {_describe(rates_now) if rates_now else 'flat price only (no per-token rates)'}",
    ]
    for t in tiers:
        settles = (
            "at submission" if t.settles_after_s == 0 else f"{t.settles_after_s} s after submission"
        )
        state = "" if t.available else " (unavailable)"
        note = f": {t.note}" if t.note else ""
        lines.append(f"  --verify {t.name}{state}: fee {t.verify_fee}, paid {settles}{note}")
        if t.disputes == "committee":
            lines.append(
                f"    a dispute costs a bond of {t.dispute_bond} ({t.dispute_bond_bps} bps of "
                f"the price, back if you win or nobody decides) and the committee's fee of "
                f"{t.dispute_fee} wei"
            )
        elif t.disputes:
            lines.append(
                f"    a dispute costs a bond of {t.dispute_bond} ({t.dispute_bond_bps} bps of "
                "the price); its module rules it"
            )
    emit(data, "\n".join(lines), as_json)


@app.command()
@market_options()
def rates(
    model_id: int = ModelId,
    base: str | None = BaseRateOpt,
    per_input_token: str | None = PerInputOpt,
    per_output_token: str | None = PerOutputOpt,
    target: Target = Target(),
    as_json: bool = JsonOption,
) -> None:
    """Show a model's per-token rates, or (its provider) set them: requests may then pay per
    token used (pricing id 1), escrowing the most and getting the rest back. Jobs already
    created keep their rates; flat-priced jobs keep working."""
    wanted = _parse_rates(base, per_input_token, per_output_token)
    _conn, client = target.client(signs=wanted is not None)
    if wanted is None:
        current = client.rates(model_id)
        data = {"model_id": model_id, "rates": asdict(current) if current else None}
        human = _describe(current) if current else f"model {model_id} has no metered rates"
        emit(data, human, as_json)
        return
    tx = client.set_rates(model_id, wanted)
    emit(
        {"model_id": model_id, "rates": asdict(wanted), "tx": tx},
        f"model {model_id} {_describe(wanted)} (tx {tx})",
        as_json,
    )


def _set_active(
    model_id: int,
    active: bool,
    target: Target,
    as_json: bool,
) -> None:
    _conn, client = target.client(signs=True)
    tx = client.set_model_active(model_id, active)
    word = "activated" if active else "deactivated"
    emit(
        {"model_id": model_id, "active": active, "tx": tx},
        f"model {model_id} {word} (tx {tx})",
        as_json,
    )


@app.command()
@market_options()
def deactivate(
    model_id: int = ModelId,
    target: Target = Target(),
    as_json: bool = JsonOption,
) -> None:
    """Stop taking new jobs for a model (jobs in flight finish normally)."""
    _set_active(model_id, False, target, as_json)


@app.command()
@market_options()
def activate(
    model_id: int = ModelId,
    target: Target = Target(),
    as_json: bool = JsonOption,
) -> None:
    """Take jobs for a deactivated model again."""
    _set_active(model_id, True, target, as_json)
