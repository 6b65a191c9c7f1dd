// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IJobMarket} from "./interfaces/IJobMarket.sol";
import {IInferenceConsumer} from "./interfaces/IInferenceConsumer.sol";
import {IModelRegistry} from "./interfaces/IModelRegistry.sol";
import {IVerifier} from "./interfaces/IVerifier.sol";
import {IWorkerRegistry} from "./interfaces/IWorkerRegistry.sol";
import {Cid} from "./libraries/Cid.sol";
import {JobSlot} from "./libraries/JobSlot.sol";
import {JobMarketBase} from "./JobMarketBase.sol";

/// @title JobMarketRare
/// @notice The rare paths of {JobMarket}: refunds (cancel, expire, reportFailure, timeout),
/// disputes and callback delivery. The market creates this contract in its constructor and
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
        _settleNow(job, Outcome.Refund);
        emit IJobMarket.JobFailed(jobId, msg.sender, evidenceCid);
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
