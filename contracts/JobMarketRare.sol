// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IJobMarket} from "./interfaces/IJobMarket.sol";
import {IInferenceConsumer} from "./interfaces/IInferenceConsumer.sol";
import {IJobMarketAdmin} from "./interfaces/IJobMarketAdmin.sol";
import {IPricing} from "./interfaces/IPricing.sol";
import {IModelRegistry} from "./interfaces/IModelRegistry.sol";
import {IVerifier} from "./interfaces/IVerifier.sol";
import {IWorkerRegistry} from "./interfaces/IWorkerRegistry.sol";
import {Cid} from "./libraries/Cid.sol";
import {JobSlot} from "./libraries/JobSlot.sol";
import {JobMarketBase} from "./JobMarketBase.sol";

/// @title JobMarketRare
/// @notice The rare paths of {JobMarket}: refunds (cancel, expire, reportFailure, timeout),
/// disputes, callback delivery and the governor's entry points. The market creates this contract in its constructor and
/// reaches it by DELEGATECALL (docs/design/contracts-v2.md §1, the size contingency), so the
/// code runs on the market's storage, balances and reentrancy guard, with the market's
/// `msg.sender` and `msg.value`; see {IJobMarket} for each function. Called directly it acts
/// on its own empty storage: every job reads as None and it holds no money.
contract JobMarketRare is JobMarketBase {
    /// @dev The same immutables as the market that creates it.
    constructor(address governor_, address router_, IModelRegistry models, IWorkerRegistry workers)
        JobMarketBase(governor_, router_, models, workers)
    {}

    /// @notice See {IJobMarket-cancel}.
    function cancel(uint256 jobId, IJobMarket.Job calldata job) external nonReentrant {
        _load(jobId, job, IJobMarket.JobStatus.Open);
        if (msg.sender != job.requester) revert IJobMarket.JobMarketNotRequester(jobId, msg.sender);
        delete _jobs[jobId];
        _settleNow(job, Outcome.Refund);
        emit IJobMarket.JobCancelled(jobId);
    }

    /// @notice See {IJobMarket-expire}.
    function expire(uint256 jobId, IJobMarket.Job calldata job) external nonReentrant {
        uint40 deadline = JobSlot.deadlineOf(_load(jobId, job, IJobMarket.JobStatus.Open));
        if (block.timestamp <= deadline) _revertAt(IJobMarket.JobMarketRequestNotExpired.selector, jobId, deadline);
        delete _jobs[jobId];
        _settleNow(job, Outcome.Refund);
        emit IJobMarket.JobExpired(jobId);
    }

    /// @notice See {IJobMarket-reportFailure}.
    function reportFailure(uint256 jobId, IJobMarket.Job calldata job, bytes calldata evidenceCid)
        external
        nonReentrant
    {
        uint40 deadline = JobSlot.deadlineOf(_load(jobId, job, IJobMarket.JobStatus.Claimed));
        if (msg.sender != job.worker) revert IJobMarket.JobMarketNotWorker(jobId, msg.sender);
        if (block.timestamp > deadline) _revertAt(IJobMarket.JobMarketClaimExpired.selector, jobId, deadline);
        Cid.parse(evidenceCid);
        delete _jobs[jobId];
        // The failure fee (issue 12, attack 2): the share of the work time held, at least 1 %,
        // of the collateral. Claimed at deadline - workTime, so 0 <= held <= workTime.
        uint256 workTime = job.terms.workTime;
        uint256 bps = (block.timestamp + workTime - deadline) * 10_000 / workTime;
        if (bps < 100) bps = 100;
        Ledger memory ledger;
        ledger.failureFee = uint256(job.terms.collateral) * bps / 10_000;
        (,,, uint256 fee) = _settle(0, job, msg.sender, Outcome.Fail, ledger);
        _flush(ledger);
        emit IJobMarket.JobFailed(jobId, msg.sender, evidenceCid, fee);
    }

    /// @notice See {IJobMarket-timeout}.
    function timeout(uint256 jobId, IJobMarket.Job calldata job) external nonReentrant {
        uint40 deadline = JobSlot.deadlineOf(_load(jobId, job, IJobMarket.JobStatus.Claimed));
        if (block.timestamp <= deadline) _revertAt(IJobMarket.JobMarketClaimNotExpired.selector, jobId, deadline);
        delete _jobs[jobId];
        uint256 slashed = _settleNow(job, Outcome.RefundAndSlash);
        emit IJobMarket.JobTimedOut(jobId, job.worker, slashed);
    }

    /// @notice See {IJobMarket-dispute}.
    function dispute(uint256 jobId, IJobMarket.Job calldata job) external payable nonReentrant {
        uint96 bond = _dispute(jobId, job, msg.sender);
        _collect(job.terms.token, msg.sender, bond);
    }

    /// @notice See {IJobMarket-resolveDispute}.
    function resolveDispute(uint256 jobId, IJobMarket.Job calldata job) external nonReentrant {
        uint256 slot = _load(jobId, job, IJobMarket.JobStatus.Disputed);
        uint40 deadline = JobSlot.deadlineOf(slot);
        if (block.timestamp > deadline) _revertAt(IJobMarket.JobMarketArbitrationClosed.selector, jobId, deadline);
        IVerifier.Verdict verdict = _verdict(jobId, job);
        if (verdict == IVerifier.Verdict.Pending) revert IJobMarket.JobMarketVerdictPending(jobId);
        if (verdict == IVerifier.Verdict.WorkerWins) {
            emit IJobMarket.DisputeResolved(jobId, true, 0);
            _payNow(jobId, job, job.worker, slot, Outcome.PayWon);
        } else {
            delete _jobs[jobId];
            uint256 slashed = _settleNow(job, Outcome.RefundAndSlashDisputed);
            emit IJobMarket.DisputeResolved(jobId, false, slashed);
        }
    }

    /// @notice See {IJobMarket-expireDispute}.
    function expireDispute(uint256 jobId, IJobMarket.Job calldata job) external nonReentrant {
        uint256 slot = _load(jobId, job, IJobMarket.JobStatus.Disputed);
        uint40 deadline = JobSlot.deadlineOf(slot);
        if (block.timestamp <= deadline) _revertAt(IJobMarket.JobMarketArbitrationOpen.selector, jobId, deadline);
        // Attack 1 (issue 12): silence must not hand the disputer a free result. The result
        // stands, as if never disputed; only the bond goes back.
        emit IJobMarket.DisputeExpired(jobId);
        _payNow(jobId, job, job.worker, slot, Outcome.PayUncontested);
    }

    /// @notice See {IJobMarket-deliver}.
    function deliver(uint256 jobId, IJobMarket.Job calldata job) external nonReentrant {
        uint40 deadline = JobSlot.deadlineOf(_load(jobId, job, IJobMarket.JobStatus.Paid));
        delete _jobs[jobId];
        address token = job.terms.token;
        uint256 fee = job.terms.callbackFee;
        if (block.timestamp > deadline) {
            // Attack 8 (issue 12): nobody delivered in time, so nobody earned the bounty.
            _balances[job.requester][token] += fee;
            emit IJobMarket.DeliveryExpired(jobId);
            return;
        }
        _balances[msg.sender][token] += fee;
        address callback = job.terms.callback;
        bytes memory data = abi.encodeCall(
            IInferenceConsumer.onInferenceResult, (jobId, Cid.build(job.outputCodec, job.outputDigest))
        );
        uint256 stipend = job.terms.callbackGas;
        // EIP-150 forwards at most 63/64 of the gas left: demand enough that the whole stipend
        // arrives, so a deliverer cannot starve a callback on purpose and still take the fee.
        uint256 needed = stipend + stipend / 63 + CALLBACK_GAS_RESERVE;
        if (gasleft() < needed) revert IJobMarket.JobMarketInsufficientCallbackGas(gasleft(), needed);
        bool success;
        assembly ("memory-safe") {
            // No return data is copied: a consumer cannot make the market pay for a huge revert.
            success := call(stipend, callback, 0, add(data, 0x20), mload(data), 0, 0)
        }
        emit IJobMarket.CallbackDelivered(jobId, callback, msg.sender, success);
    }

    /// @notice See {IJobMarketRouter-disputeFor}.
    function disputeFor(uint256 jobId, IJobMarket.Job calldata job, address requester)
        external
        nonReentrant
        onlyRouter
        returns (uint96 bond)
    {
        bond = _dispute(jobId, job, requester);
        _debit(requester, job.terms.token, bond);
    }

    // --- admin (governor only; the governor checks bounds) ---------------------------------

    /// @notice See {IJobMarketAdmin-applyConfig}.
    function applyConfig(IJobMarketAdmin.Config calldata config_) external onlyGovernor {
        _applyConfig(config_);
    }

    /// @notice See {IJobMarketAdmin-registerMode}.
    function registerMode(
        uint8 id,
        IVerifier module,
        uint32 challengeWindow,
        uint32 arbitrationWindow,
        uint8 hooks
    ) external onlyGovernor {
        _registerMode(id, module, challengeWindow, arbitrationWindow, hooks);
    }

    /// @notice See {IJobMarketAdmin-registerPricing}.
    function registerPricing(uint8 id, IPricing module) external onlyGovernor {
        if (address(module) == address(0)) revert IJobMarket.JobMarketZeroAddress();
        address current = address(_pricings[id].module);
        // Id 0 is flat pricing, built in: it is taken by no module.
        if (id == 0 || current != address(0)) revert IJobMarketAdmin.JobMarketPricingTaken(id, current);
        _pricings[id].module = module;
        emit IJobMarketAdmin.PricingRegistered(id, address(module));
    }

    /// @notice See {IJobMarketAdmin-setPricingEnabled}.
    function setPricingEnabled(uint8 id, bool enabled) external onlyGovernor {
        IJobMarketAdmin.Pricing storage p = _pricings[id];
        if (address(p.module) == address(0)) revert IJobMarketAdmin.JobMarketPricingUnknown(id);
        p.enabled = enabled;
        emit IJobMarketAdmin.PricingEnabled(id, enabled);
    }

    /// @notice See {IJobMarketAdmin-setModeEnabled}.
    function setModeEnabled(uint8 id, bool enabled) external onlyGovernor {
        _setModeEnabled(id, enabled);
    }

    /// @notice See {IJobMarketAdmin-setTokenAllowed}.
    function setTokenAllowed(address token, bool allowed) external onlyGovernor {
        _setTokenAllowed(token, allowed);
    }

    /// @notice See {IJobMarketAdmin-setPaused}.
    function setPaused(bool paused_) external onlyGovernor {
        _hot.paused = paused_;
        emit IJobMarketAdmin.Paused(paused_);
    }

    /// @dev Opens a dispute of `jobId` for `requester`; the caller collects the bond, which
    /// was fixed at creation. The tuple does not change: only the slot's status and deadline.
    function _dispute(uint256 jobId, IJobMarket.Job calldata job, address requester) private returns (uint96 bond) {
        uint256 slot = _load(jobId, job, IJobMarket.JobStatus.Submitted);
        uint40 deadline = JobSlot.deadlineOf(slot);
        if (requester != job.requester) revert IJobMarket.JobMarketNotRequester(jobId, requester);
        if (block.timestamp > deadline) _revertAt(IJobMarket.JobMarketChallengeWindowClosed.selector, jobId, deadline);
        bond = job.terms.disputeBond;
        uint40 arbitrationDeadline =
            uint40(block.timestamp) + _modes[job.terms.verification].arbitrationWindow;
        _jobs[jobId] = JobSlot.pack(
            slot & (JobSlot.COMMITMENT_MASK | JobSlot.HOOKS), arbitrationDeadline, IJobMarket.JobStatus.Disputed
        );
        emit IJobMarket.JobDisputed(jobId, bond, arbitrationDeadline);
    }
}
