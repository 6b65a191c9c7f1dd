"""Verification and pricing modes of a market, and the verification fee a job escrows.

A mode's hook flags are read once, when the governor registers it (`IVerifier.hooks`), so a
client reads them from the market's `modeOf` and asks the module for a quote only when the
`QUOTE` flag is set: mode 0 (ManualArbiter, flags 0) costs one view and no module call.
"""

from __future__ import annotations

from dataclasses import dataclass

from web3 import Web3
from web3.contract import Contract
from web3.exceptions import Web3Exception

from inferchain.chain import Chain, ChainError, ContractReverted
from inferchain.market.court import Court, court_of

#: `VerifierHooks` flags (contracts/interfaces/IVerifier.sol).
QUOTE = 1
ON_SUBMIT = 2
ON_FINALIZE = 4
#: The verification mode the ManualArbiter serves.
MANUAL_MODE = 0
#: The verification mode ZkVerifier serves (`zk`): a job is paid at submission, proof checked.
ZK_MODE = 1
#: The verification mode ReexecVerifier serves (`reexec`): a drawn committee re-runs the job.
REEXEC_MODE = 2
#: The modes a deployment sets up, by name (`inferchain job submit --verify`); `none` and
#: `manual` both name mode 0, whichever arbiter the deployment gave it.
MODE_NAMES = {"none": MANUAL_MODE, "manual": MANUAL_MODE, "zk": ZK_MODE, "reexec": REEXEC_MODE}


@dataclass(frozen=True)
class Mode:
    """IJobMarketAdmin.Mode: a verification mode as the market registered it."""

    module: str
    challenge_window: int
    arbitration_window: int
    hooks: int
    enabled: bool

    @property
    def registered(self) -> bool:
        return int(self.module, 16) != 0

    @property
    def quotes(self) -> bool:
        """Whether jobs of this mode escrow a verification fee from the module's quote."""
        return bool(self.hooks & QUOTE)


@dataclass(frozen=True)
class Pricing:
    """IJobMarketAdmin.Pricing: a pricing mode (id 0, flat, is built in and never stored)."""

    module: str
    enabled: bool

    @property
    def registered(self) -> bool:
        return int(self.module, 16) != 0


def read_mode(chain: Chain, market: Contract, mode_id: int) -> Mode:
    """Mode `mode_id` of `market` (module zero: not registered)."""
    module, challenge, arbitration, hooks, enabled = chain.call(market.functions.modeOf(mode_id))
    return Mode(str(module), int(challenge), int(arbitration), int(hooks), bool(enabled))


def read_pricing(chain: Chain, market: Contract, pricing_id: int) -> Pricing:
    """Pricing mode `pricing_id` of `market` (module zero: not registered)."""
    module, enabled = chain.call(market.functions.pricingOf(pricing_id))
    return Pricing(str(module), bool(enabled))


def verify_fee(
    chain: Chain,
    market: Contract,
    mode: Mode,
    *,
    requester: str,
    model_id: int,
    token: str,
    price: int,
) -> int:
    """The verification fee a new job of `mode` escrows on top of `price` (what the market's
    `createJob` asks the module; 0 without the QUOTE flag). It counts against `maxPrice`."""
    if not mode.quotes:
        return 0
    verifier = chain.contract("IVerifier", mode.module)
    return int(chain.call(verifier.functions.quote(requester, model_id, token, price)))


def parse_mode(value: str) -> int:
    """A verification mode from its name (`none`, `manual`, `zk`, `reexec`) or its id."""
    key = value.strip().lower()
    if key in MODE_NAMES:
        return MODE_NAMES[key]
    if key.isdecimal() and int(key) < 256:
        return int(key)
    names = ", ".join(MODE_NAMES)
    raise ValueError(f"unknown verification mode {value!r}: give {names} or a mode id 0..255")


def zk_circuit_set(chain: Chain, mode: Mode, model_id: int) -> bool | None:
    """Whether `mode`'s module holds a circuit for `model_id` (a ZkVerifier checks every
    result against one, so a model without one can never be paid in that mode); None for a
    mode that checks no proof at submission or whose module is no ZkVerifier.

    Read from the module itself (`IZkVerifier.circuitOf`), so a client needs no address
    besides the market's."""
    if not mode.hooks & ON_SUBMIT or mode.hooks & ON_FINALIZE:
        return None
    module = chain.contract("IZkVerifier", mode.module)
    try:
        verifier = chain.call(module.functions.circuitOf(model_id))[0]
    except (ChainError, Web3Exception, ValueError):  # not a ZkVerifier: cannot tell
        return None
    return int(Web3.to_checksum_address(verifier), 16) != 0


@dataclass(frozen=True)
class TierQuote:
    """What choosing verification mode `mode` adds to a job of one model, quoted up front."""

    mode: int
    #: `none` (mode 0 judged by the committee), `manual` (mode 0 ruled by a key), `zk`,
    #: `reexec`, or `mode N` for a mode this client has no name for.
    name: str
    module: str
    #: Whether a job of this model may use it now (enabled; a proof mode needs a circuit).
    available: bool
    #: Escrowed on top of the price, earned by the module once a result is submitted.
    verify_fee: int
    #: Seconds from submission to payment at the latest: 0 when a proof is checked at
    #: submission (paid at once), else the challenge window (the result stands once it
    #: passed; a `reexec` committee may decide sooner).
    settles_after_s: int
    #: Why it is unavailable, or what it needs from the worker; empty otherwise.
    note: str = ""
    #: What disputing a result costs the requester: the bond (in the job's token, back if
    #: the dispute is won or never decided), from the market's bond bps at creation; 0 in a
    #: mode paid at submission, which no dispute reaches.
    dispute_bond: int = 0
    dispute_bond_bps: int = 0
    #: The committee's fee (ETH) for opening the dispute round, on top of the bond; 0 where a
    #: key rules disputes. Not refunded: it pays the committee that re-runs the job.
    dispute_fee: int = 0
    #: Who decides a dispute: `committee` (a drawn committee of the reexec pool), `arbiter`
    #: (the mode's module, e.g. a ManualArbiter's key), or empty when none is reachable.
    disputes: str = ""


def _refusal(exc: ContractReverted) -> str:
    """Why a module refuses to quote, for a user."""
    a = exc.error_args
    match exc.error_name:
        case "ReexecPoolTooSmall":
            return (
                f"the verifier pool has {a.get('have')} members, {a.get('needed')} needed "
                f"(`inferchain verifier join`)"
            )
        case "ReexecEthOnly":
            return "ETH-priced models only"
    return f"the module refuses a quote: {exc}"


def _court_note(court: Court) -> str:
    """What the `none` tier means for a user, and whether its court can sit now."""
    k = court.params.committee_size
    note = (
        f"optimistic, unless disputed: a dispute is judged by {k} verifiers drawn from the "
        "reexec pool, who re-run the job"
    )
    if not court.can_seat:
        note += (
            f" (no dispute could be judged now: the pool has {court.pool_size} members, "
            f"{court.seats_needed} needed)"
        )
    return note


def quote_tiers(
    chain: Chain,
    market: Contract,
    *,
    model_id: int,
    token: str,
    price: int,
    requester: str,
    modes: tuple[int, ...] = tuple(MODE_NAMES.values()),
) -> list[TierQuote]:
    """The tiers a job of `model_id` (at `price` in `token`) may choose among `modes`, each
    with what a dispute of it would cost; a mode the market never registered is left out."""
    names = {ZK_MODE: "zk", REEXEC_MODE: "reexec"}
    bond_bps = int(chain.call(market.functions.config())[2])
    quotes = []
    for mode_id in dict.fromkeys(modes):
        mode = read_mode(chain, market, mode_id)
        if not mode.registered:
            continue
        # Paid at submission: the module decides there (a proof), not later at finalize.
        proves = bool(mode.hooks & ON_SUBMIT) and not mode.hooks & ON_FINALIZE
        available, note = mode.enabled, "" if mode.enabled else "disabled on this market"
        try:
            fee = verify_fee(
                chain, market, mode, requester=requester, model_id=model_id, token=token,
                price=price,
            )  # fmt: skip
        except ContractReverted as exc:  # the module refuses this job (a token price, a pool)
            fee, available, note = 0, False, _refusal(exc)
        court = None if proves else court_of(chain, market.address, mode.module)
        name = names.get(mode_id, f"mode {mode_id}")
        if mode_id == MANUAL_MODE:
            name = "none" if court is not None else "manual"
        if mode_id == REEXEC_MODE:
            if available:
                note = "a drawn committee re-runs the job; paid once its majority agrees"
        elif available and zk_circuit_set(chain, mode, model_id) is False:
            available, note = False, "the model has no ZK circuit"
        elif available and proves:
            note = "the worker proves its result; paid at submission"
        elif available and court is not None:
            note = _court_note(court)
        bond = 0 if proves else price * bond_bps // 10_000
        quotes.append(
            TierQuote(
                mode=mode_id,
                name=name,
                module=mode.module,
                available=available,
                verify_fee=fee,
                settles_after_s=0 if proves else mode.challenge_window,
                note=note,
                dispute_bond=bond,
                dispute_bond_bps=0 if proves else bond_bps,
                dispute_fee=court.fee if court is not None else 0,
                disputes="" if proves else "committee" if court is not None else "arbiter",
            )
        )
    return quotes
