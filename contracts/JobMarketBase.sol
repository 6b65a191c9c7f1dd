// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IJobMarket} from "./interfaces/IJobMarket.sol";
import {IJobMarketAdmin} from "./interfaces/IJobMarketAdmin.sol";
import {IJobMarketRouter} from "./interfaces/IJobMarketRouter.sol";
import {IModelRegistry} from "./interfaces/IModelRegistry.sol";
import {IVerifier} from "./interfaces/IVerifier.sol";
import {IWorkerRegistry} from "./interfaces/IWorkerRegistry.sol";
import {JobSlot} from "./libraries/JobSlot.sol";
import {TokenTransfer} from "./libraries/TokenTransfer.sol";

/// @title JobMarketBase
/// @notice What {JobMarket} and its rare-path code {JobMarketRare} share: constants,
/// immutables, the storage layout (declared here only, so both see the same slots) and the
/// settlement path. JobMarket reaches JobMarketRare by DELEGATECALL, so the rare paths run on
/// the market's storage and balances; JobMarketRare's own storage stays empty.
abstract contract JobMarketBase is ReentrancyGuardTransient {
    uint32 public constant MAX_WORK_TIME = 7 days;
    uint40 public constant MAX_REQUEST_TTL = 30 days;
    uint32 public constant MAX_CALLBACK_GAS = 1_000_000;
    /// @notice Gas kept back after a callback for the event and the rest of a batch item.
    uint256 public constant CALLBACK_GAS_RESERVE = 15_000;
    uint256 public constant MAX_BATCH = 50;
    /// @notice How long after payment a callback may be delivered for its fee.
    uint40 public constant DELIVERY_WINDOW = 1 days;

    /// @dev The hot slot: what a creation reads besides its mode (its id counter is written
    /// back), and the dispute bond.
    struct Hot {
        uint40 nextJobId;
        bool paused;
        uint16 feeBps;
        uint16 collateralBps;
        uint16 disputeBondBps;
    }

    /// @dev A credit not yet written to `_balances` (see {_credit}).
    struct Credit {
        address account;
        address token;
        uint256 amount;
    }

    /// @dev Pending credits of one transaction, by role, and the pending change to one
    /// worker's exposure slot in one token (`unlock` off the lock, `record` added to the
    /// counters). `failureFee` is an input: what a {reportFailure} slashes.
    struct Ledger {
        Credit worker;
        Credit provider;
        Credit fees;
        Credit requester;
        address exposedWorker;
        address exposedToken;
        uint256 unlock;
        uint256 record;
        uint256 failureFee;
    }

    /// @dev How a job's money is settled. A paid dispute bond (`terms.disputeBond`) goes to
    /// the worker when it won (`PayWon`), back to the requester when nobody decided
    /// (`PayUncontested`) or the worker lost (`RefundAndSlashDisputed`). `Refund` and
    /// `Fail` and `RefundAndSlash` come before any submission (the verification fee goes
    /// back); every other outcome comes after one (it goes to the mode's module). `Fail`
    /// slashes the failure fee, the `RefundAndSlash…` outcomes the whole collateral.
    /// `RefundAndSlashRejected`: the module's verdict at finalize went against the worker.
    enum Outcome {
        Pay,
        PayWon,
        PayUncontested,
        Refund,
        Fail,
        RefundAndSlash,
        RefundAndSlashRejected,
        RefundAndSlashDisputed
    }

    IModelRegistry internal immutable _MODELS;
    IWorkerRegistry internal immutable _WORKERS;
    address internal immutable _ROUTER;
    /// @dev The only admin, and the fee account: immutable, so settlement reads no slot for it.
    address internal immutable _GOVERNOR;
    Hot internal _hot;
    mapping(uint256 jobId => uint256 slot) internal _jobs;
    /// @dev Lock and record of a worker per token, one slot ({IJobMarket-Exposure}): bits
    /// 0..95 locked, then five 32-bit counters. Written raw, as sums: see {_flushExposure}.
    mapping(address worker => mapping(address token => IJobMarket.Exposure)) internal _exposure;
    mapping(address account => mapping(address token => uint256)) internal _balances;
    mapping(address token => bool) internal _allowedTokens;
    mapping(uint8 id => IJobMarketAdmin.Mode) internal _modes;
    mapping(uint8 id => IJobMarketAdmin.Pricing) internal _pricings;

    /// @dev Sets the immutables both contracts read; the market's constructor does the rest.
    constructor(address governor_, address router_, IModelRegistry models, IWorkerRegistry workers) {
        if (governor_ == address(0) || router_ == address(0)) revert IJobMarket.JobMarketZeroAddress();
        _GOVERNOR = governor_;
        _MODELS = models;
        _WORKERS = workers;
        _ROUTER = router_;
    }

    modifier onlyRouter() {
        if (msg.sender != _ROUTER) revert IJobMarketRouter.JobMarketNotRouter(msg.sender);
        _;
    }

    modifier onlyGovernor() {
        if (msg.sender != _GOVERNOR) revert IJobMarketAdmin.JobMarketNotGovernor(msg.sender);
        _;
    }

    // --- shared transitions and money -----------------------------------------------------

    /// @dev Checks `job` against the stored commitment and status; returns the slot.
    function _load(uint256 jobId, IJobMarket.Job calldata job, IJobMarket.JobStatus expected)
        internal
        view
        returns (uint256 slot)
    {
        bytes4 problem;
        (problem, slot) = _check(jobId, job, expected);
        if (problem != 0) _raise(problem, jobId, slot, expected);
    }

    /// @dev {_load} without reverting, so a batch can skip the item (issue 12, attack 7):
    /// `problem` is the selector of the error {_raise} rebuilds, zero when the job matches.
    function _check(uint256 jobId, IJobMarket.Job calldata job, IJobMarket.JobStatus expected)
        internal
        view
        returns (bytes4 problem, uint256 slot)
    {
        slot = _jobs[jobId];
        if (JobSlot.statusOf(slot) != expected) return (IJobMarket.JobMarketInvalidStatus.selector, slot);
        if (JobSlot.commitmentOf(slot) != JobSlot.commitCalldata(job)) {
            return (IJobMarket.JobMarketJobMismatch.selector, slot);
        }
    }

    /// @dev Reverts with the typed error `problem` names: what a single call reports.
    function _raise(bytes4 problem, uint256 jobId, uint256 slot, IJobMarket.JobStatus expected) internal view {
        if (problem == IJobMarket.JobMarketInvalidStatus.selector) {
            revert IJobMarket.JobMarketInvalidStatus(jobId, _statusOf(jobId, slot), expected);
        }
        if (problem == IJobMarket.JobMarketJobMismatch.selector) revert IJobMarket.JobMarketJobMismatch(jobId);
        if (problem == IJobMarket.JobMarketProofRejected.selector) revert IJobMarket.JobMarketProofRejected(jobId);
        // Every other problem is a deadline error shaped (uint256 jobId, uint40 deadline).
        _revertAt(problem, jobId, JobSlot.deadlineOf(slot));
    }

    /// @dev Reverts with the deadline error `selector(jobId, deadline)`: one encoder for all.
    function _revertAt(bytes4 selector, uint256 jobId, uint40 deadline) internal pure {
        assembly ("memory-safe") {
            let data := mload(0x40)
            mstore(data, selector)
            mstore(add(data, 4), jobId)
            mstore(add(data, 36), and(deadline, 0xffffffffff)) // clean: a uint40 may carry high bits
            revert(data, 68)
        }
    }

    /// @dev The verdict of the job's module ({IVerifier-verdict}) on the tuple as given.
    function _verdict(uint256 jobId, IJobMarket.Job calldata job) internal returns (IVerifier.Verdict) {
        bytes memory data;
        assembly ("memory-safe") {
            data := mload(0x40)
            mstore(add(data, 0x24), jobId)
            calldatacopy(add(data, 0x44), job, 800)
            mstore(data, 836)
            mstore(0x40, add(data, 868))
        }
        return _callVerifier(job, IVerifier.verdict.selector, data, true);
    }

    /// @dev Calls the job's module with `data` (its selector still to write), bubbling up a
    /// revert; a module that answers something else than a verdict reverts the call.
    function _callVerifier(IJobMarket.Job calldata job, bytes4 selector, bytes memory data, bool isView)
        internal
        returns (IVerifier.Verdict verdict)
    {
        address module = address(_modes[job.terms.verification].module);
        bool ok;
        uint256 answer;
        assembly ("memory-safe") {
            mstore(add(data, 0x20), or(and(mload(add(data, 0x20)), shr(32, not(0))), selector))
            switch isView
            case 0 { ok := call(gas(), module, 0, add(data, 0x20), mload(data), 0, 0x20) }
            default { ok := staticcall(gas(), module, add(data, 0x20), mload(data), 0, 0x20) }
            if iszero(ok) {
                returndatacopy(0, 0, returndatasize())
                revert(0, returndatasize())
            }
            if lt(returndatasize(), 0x20) { revert(0, 0) }
            answer := mload(0)
        }
        if (answer > uint256(IVerifier.Verdict.WorkerLoses)) revert();
        return IVerifier.Verdict(answer);
    }

    /// @dev {_pay} for one job, its credits written at once.
    function _payNow(uint256 jobId, IJobMarket.Job calldata job, address worker, uint256 slot, Outcome outcome)
        internal
    {
        Ledger memory ledger;
        _pay(jobId, job, worker, slot, outcome, ledger);
        _flush(ledger);
    }

    /// @dev Pays a finished job (`Pay`, `PayWon`, `PayUncontested`) of `worker`. It runs no
    /// foreign code (attack 8): a job with a callback keeps its slot (the commitment in
    /// `slot`) as `Paid` until {deliver}.
    function _pay(
        uint256 jobId,
        IJobMarket.Job calldata job,
        address worker,
        uint256 slot,
        Outcome outcome,
        Ledger memory ledger
    ) internal {
        if (job.terms.callback == address(0)) {
            delete _jobs[jobId];
        } else {
            _jobs[jobId] = JobSlot.pack(
                slot & JobSlot.COMMITMENT_MASK, uint40(block.timestamp) + DELIVERY_WINDOW, IJobMarket.JobStatus.Paid
            );
        }
        (uint256 workerAmount, uint256 royalty, uint256 fee,) = _settle(jobId, job, worker, outcome, ledger);
        emit IJobMarket.JobFinalized(jobId, worker, workerAmount, royalty, fee);
    }

    /// @dev {_settle} for one job, its credits written at once.
    function _settleNow(IJobMarket.Job calldata job, Outcome outcome) internal returns (uint256 slashed) {
        Ledger memory ledger;
        (,,, slashed) = _settle(0, job, job.worker, outcome, ledger);
        _flush(ledger);
    }

    /// @dev The one settlement path: every payout, royalty, fee, refund, bond, slash and
    /// verification fee of a job goes through here into `ledger`, which {_flush} writes to
    /// the pull balances. Callers clear or rewrite the job slot first. A slash calls the
    /// worker registry before crediting because only it knows the amount; it is immutable
    /// and trusted, and the cleared slot makes a replay impossible anyway. A paid job's
    /// callback fee stays in escrow for {deliver}; a refunded job's goes back.
    /// `extra` is, when paid, the uncharged part of a metered price (refunded, and reported
    /// by {IJobMarket-JobCharged}); when refunded, the stake slashed.
    function _settle(
        uint256 jobId,
        IJobMarket.Job calldata job,
        address worker,
        Outcome outcome,
        Ledger memory ledger
    )
        internal
        returns (uint256 workerAmount, uint256 royalty, uint256 fee, uint256 extra)
    {
        (address token,) = _lockTerms(job);
        if (worker != address(0)) {
            // A claimed job ends: its collateral is unlocked and the outcome recorded.
            if (ledger.exposedWorker != worker || ledger.exposedToken != token) {
                _flushExposure(ledger);
                ledger.exposedWorker = worker;
                ledger.exposedToken = token;
            }
            // Safe: a batch's collateral sums stay far below 2^256, its counts below 2^32.
            unchecked {
                ledger.unlock += _collateralOf(job);
                ledger.record += _recordOf(outcome);
            }
        }
        // One raw test keeps flat, fee-free jobs (every field checked against the commitment,
        // so clean) off both module paths: terms.pricing is word 10, terms.verifyFee word 15.
        bool modules;
        assembly ("memory-safe") {
            modules := iszero(iszero(or(calldataload(add(job, 320)), calldataload(add(job, 480)))))
        }
        if (modules && job.terms.verifyFee != 0) _settleVerifyFee(job, outcome);
        uint256 price = job.terms.price;
        if (outcome <= Outcome.PayUncontested) {
            if (modules && job.terms.pricing != 0) {
                uint256 charged = _pricings[job.terms.pricing].module.charge(job.terms.pricingTerms, job.usage);
                if (charged < price) {
                    // Safe: checked just above.
                    unchecked {
                        extra = price - charged;
                    }
                    price = charged;
                    _credit(ledger.requester, job.requester, token, extra);
                }
                emit IJobMarket.JobCharged(jobId, price, extra);
            }
            royalty = price * job.terms.royaltyBps / 10_000;
            fee = price * job.terms.feeBps / 10_000;
            // Safe: royaltyBps + feeBps <= 5_000 + 1_000 < 10_000, so royalty + fee < price.
            unchecked {
                workerAmount = price - royalty - fee;
            }
            if (outcome == Outcome.PayWon) workerAmount += job.terms.disputeBond;
            else if (outcome == Outcome.PayUncontested) {
                _credit(ledger.requester, job.requester, token, job.terms.disputeBond);
            }
            _credit(ledger.worker, worker, token, workerAmount);
            _credit(ledger.provider, job.terms.provider, token, royalty);
            _credit(ledger.fees, _GOVERNOR, token, fee);
        } else {
            if (outcome >= Outcome.Fail) {
                // Capped by the registry at the worker's allocation here; paid to this market.
                extra = _WORKERS.slash(
                    worker, token, outcome == Outcome.Fail ? ledger.failureFee : _collateralOf(job)
                );
            }
            if (outcome == Outcome.RefundAndSlashDisputed) price += job.terms.disputeBond;
            // The whole slash compensates the requester (issue 12, attacks 2 and 3).
            _credit(ledger.requester, job.requester, token, price + job.terms.callbackFee + extra);
        }
    }

    /// @dev The job's token and collateral, read raw (terms words 0 and 9 of the tuple): every
    /// caller checked the tuple against its commitment, made from clean values.
    function _lockTerms(IJobMarket.Job calldata job) internal pure returns (address token, uint256 collateral) {
        assembly ("memory-safe") {
            token := calldataload(add(job, 128))
            collateral := calldataload(add(job, 416))
        }
    }

    function _collateralOf(IJobMarket.Job calldata job) internal pure returns (uint256 collateral) {
        assembly ("memory-safe") {
            collateral := calldataload(add(job, 416))
        }
    }

    /// @dev The counter an outcome adds to the exposure slot (bit offsets of
    /// {IJobMarket-Exposure}: paid 96, failed 128, timedOut 160, disputesLost 192,
    /// disputesWon 224). A won dispute counts as paid too.
    function _recordOf(Outcome outcome) internal pure returns (uint256 bump) {
        if (outcome == Outcome.Pay) return 1 << 96;
        // One byte per outcome (Pay lowest): the counter's bit offset.
        uint256 offset = (0xc0c0a0806060e060 >> (8 * uint256(outcome))) & 0xff;
        bump = 1 << offset;
        if (outcome == Outcome.PayWon) bump |= 1 << 96;
    }

    /// @dev After a submission the mode's module earned the verification fee (it withdraws
    /// it like any balance); before one it goes back to the requester.
    function _settleVerifyFee(IJobMarket.Job calldata job, Outcome outcome) internal {
        address to = outcome >= Outcome.Refund && outcome <= Outcome.RefundAndSlash
            ? job.requester
            : address(_modes[job.terms.verification].module);
        _balances[to][job.terms.token] += job.terms.verifyFee;
    }

    /// @dev Adds to a pending credit; a different account or token first writes the old one.
    /// Within a batch paying the same worker, provider and fee account in the same token, each
    /// balance is then written once instead of once per job.
    function _credit(Credit memory pending, address account, address token, uint256 amount) internal {
        if (amount == 0) return;
        if (pending.account != account || pending.token != token) {
            _write(pending);
            pending.account = account;
            pending.token = token;
        }
        pending.amount += amount;
    }

    function _write(Credit memory pending) internal {
        if (pending.amount != 0) {
            _balances[pending.account][pending.token] += pending.amount;
            pending.amount = 0;
        }
    }

    function _flush(Ledger memory ledger) internal {
        _write(ledger.worker);
        _write(ledger.provider);
        _write(ledger.fees);
        _write(ledger.requester);
        _flushExposure(ledger);
    }

    /// @dev Writes the pending exposure change in one SSTORE. Raw sums are exact: the lock
    /// holds at least `unlock` (each ended job's collateral was locked at its claim, and the
    /// lock of a claim is written before anything in the same transaction can end it), and
    /// no counter reaches 2^32.
    function _flushExposure(Ledger memory ledger) internal {
        if (ledger.record == 0) return;
        IJobMarket.Exposure storage e = _exposure[ledger.exposedWorker][ledger.exposedToken];
        uint256 record = ledger.record;
        uint256 unlock = ledger.unlock;
        assembly ("memory-safe") {
            let ref := e.slot
            sstore(ref, sub(add(sload(ref), record), unlock))
        }
        ledger.record = 0;
        ledger.unlock = 0;
    }

    function _debit(address account, address token, uint256 amount) internal {
        uint256 balance = _balances[account][token];
        if (balance < amount) revert IJobMarket.JobMarketInsufficientBalance(account, token, balance, amount);
        // Safe: checked just above.
        unchecked {
            _balances[account][token] = balance - amount;
        }
    }

    /// @dev Takes exactly `amount` from the caller: ETH as value, or a measured ERC-20 pull.
    function _collect(address token, address from, uint256 amount) internal {
        if (token == address(0)) {
            if (msg.value != amount) revert IJobMarket.JobMarketValueMismatch(amount, msg.value);
        } else {
            if (msg.value != 0) revert IJobMarket.JobMarketValueMismatch(0, msg.value);
            if (amount != 0) TokenTransfer.pull(token, from, amount);
        }
    }

    // --- admin: the constructor's and {JobMarketRare}'s -------------------------------------

    function _applyConfig(IJobMarketAdmin.Config memory config_) internal {
        _hot.feeBps = config_.feeBps;
        _hot.collateralBps = config_.collateralBps;
        _hot.disputeBondBps = config_.disputeBondBps;
        emit IJobMarketAdmin.ConfigUpdated(config_);
    }

    /// @dev A module is set once per id and never replaced, whoever governs: a job's mode
    /// keeps deciding its disputes with the windows it was created under.
    function _registerMode(
        uint8 id,
        IVerifier module,
        uint32 challengeWindow,
        uint32 arbitrationWindow,
        uint8 hooks
    ) internal {
        if (address(module) == address(0)) revert IJobMarket.JobMarketZeroAddress();
        address current = address(_modes[id].module);
        if (current != address(0)) revert IJobMarketAdmin.JobMarketModeTaken(id, current);
        _modes[id] = IJobMarketAdmin.Mode(module, challengeWindow, arbitrationWindow, hooks, false);
        emit IJobMarketAdmin.ModeRegistered(id, address(module), challengeWindow, arbitrationWindow, hooks);
    }

    function _setModeEnabled(uint8 id, bool enabled) internal {
        IJobMarketAdmin.Mode storage m = _modes[id];
        if (address(m.module) == address(0)) revert IJobMarketAdmin.JobMarketModeUnknown(id);
        m.enabled = enabled;
        emit IJobMarketAdmin.ModeEnabled(id, enabled);
    }

    function _setTokenAllowed(address token, bool allowed) internal {
        if (token == address(0)) revert IJobMarket.JobMarketZeroAddress();
        _allowedTokens[token] = allowed;
        emit IJobMarketAdmin.TokenAllowed(token, allowed);
    }

    function _statusOf(uint256 jobId, uint256 slot) internal view returns (IJobMarket.JobStatus) {
        if (slot != 0) return JobSlot.statusOf(slot);
        return jobId != 0 && jobId < _hot.nextJobId ? IJobMarket.JobStatus.Settled : IJobMarket.JobStatus.None;
    }
}
