// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IJobMarket} from "./interfaces/IJobMarket.sol";
import {IJobMarketAdmin} from "./interfaces/IJobMarketAdmin.sol";
import {IJobMarketRouter} from "./interfaces/IJobMarketRouter.sol";
import {IJobRouter} from "./interfaces/IJobRouter.sol";
import {IVenue} from "./interfaces/IVenue.sol";
import {IModelRegistry} from "./interfaces/IModelRegistry.sol";
import {IPricing} from "./interfaces/IPricing.sol";
import {IVerifier, VerifierHooks} from "./interfaces/IVerifier.sol";
import {IWorkerRegistry} from "./interfaces/IWorkerRegistry.sol";
import {Cid} from "./libraries/Cid.sol";
import {JobSlot} from "./libraries/JobSlot.sol";
import {MarketBounds} from "./libraries/MarketBounds.sol";
import {TokenTransfer} from "./libraries/TokenTransfer.sol";

import {JobMarketBase} from "./JobMarketBase.sol";
import {JobMarketRare} from "./JobMarketRare.sol";

/// @title JobMarket
/// @notice Escrow and lifecycle of inference jobs; see {IJobMarket} for the state machine and
/// the caveats of the one-slot job commitment.
///
/// Trust: the only admin is the immutable governor ({IJobMarketAdmin}; a timelock owns it):
/// it sets bounded terms for new jobs, allow-lists tokens, pauses new jobs and registers each
/// verification mode's module once. It has no function that moves escrow or balances; fees
/// are credited to its own account here, which it withdraws like anyone else. A mode's
/// module decides only the disputes of its mode, only between the two outcomes the market
/// defines, and only before the arbitration deadline; silence leaves the result standing.
/// Every slash goes to the harmed requester. Modules plug in without touching the lifecycle
/// (contracts v2 §1.6): a verification mode's hooks ({IVerifier}) are called only when its
/// flags, read once at registration, ask for them, and a pricing mode ({IPricing}) only for
/// jobs that name it; neither can move escrow beyond the outcomes defined here. Settlement
/// never runs foreign code but the job's modules: callbacks wait for {deliver}. The router (immutable) opens, disputes and
/// deposits only for accounts whose signatures it verified, or its own caller.
///
/// Size: the rare paths (refunds, disputes, `deliver`) run in {JobMarketRare}, created by the
/// constructor and reached by DELEGATECALL; their entry points here only forward.
contract JobMarket is JobMarketBase, IJobMarket, IJobMarketAdmin, IJobMarketRouter, IVenue {

    /// @dev The last model's terms, so that a batch of requests calls the registry once.
    struct ModelCache {
        uint32 modelId;
        IModelRegistry.Terms terms;
    }

    /// @dev The caller's collateral lock in one token during a transaction: the slot
    /// (`ref`, zero until loaded), the lock and the allocation read when loaded, and the
    /// collateral added since (`delta`, written by {_flushLock}). One registry call and one
    /// write per token run of a batch.
    struct Lock {
        bytes32 ref;
        address token;
        uint256 locked;
        uint256 allocation;
        uint256 delta;
    }

    /// @dev The rare-path code, created with the same immutables.
    address private immutable _RARE;


    /// @notice Deploys a market ready for jobs: no wiring transaction follows.
    /// @param governor_ The only admin and the fee account ({MarketGovernor}).
    /// @param router_ The shared {JobRouter}, the only caller of {IJobMarketRouter}.
    /// @param config_ Initial terms, checked against the governor's bounds.
    /// @param modes Modes registered and enabled now; each module's windows are read and
    /// checked against the governor's bounds.
    /// @param tokens ERC-20s allowed now.
    constructor(
        address governor_,
        address router_,
        IModelRegistry models,
        IWorkerRegistry workers,
        Config memory config_,
        ModeInit[] memory modes,
        address[] memory tokens
    ) JobMarketBase(governor_, router_, models, workers) {
        _RARE = address(new JobMarketRare(governor_, router_, models, workers));
        _hot.nextJobId = 1;
        MarketBounds.checkConfig(config_);
        _applyConfig(config_);
        for (uint256 i; i < modes.length; ++i) {
            IVerifier module = modes[i].module;
            (uint32 challengeWindow, uint32 arbitrationWindow) = MarketBounds.windowsOf(module);
            _registerMode(
                modes[i].id, module, challengeWindow, arbitrationWindow, MarketBounds.hooksOf(module)
            );
            _setModeEnabled(modes[i].id, true);
        }
        for (uint256 i; i < tokens.length; ++i) {
            _setTokenAllowed(tokens[i], true);
        }
    }


    /// @notice Accepts ETH only from the worker registry: slashed collateral on its way to
    /// the requester's balance.
    receive() external payable {
        if (msg.sender != address(_WORKERS)) revert JobMarketUnexpectedEth(msg.sender);
    }


    // --- creation -------------------------------------------------------------------------

    /// @inheritdoc IJobMarket
    function createJob(address requester, JobRequest calldata request)
        external
        payable
        nonReentrant
        returns (uint256 jobId)
    {
        if (requester == address(0)) revert JobMarketZeroAddress();
        ModelCache memory cache;
        JobTerms memory terms;
        (jobId, terms) = _open(requester, request, cache);
        uint256 escrow = _escrowOf(terms);
        if (terms.token == address(0)) {
            if (msg.value < escrow) revert JobMarketValueMismatch(escrow, msg.value);
            // Safe: checked just above.
            uint256 excess;
            unchecked {
                excess = msg.value - escrow;
            }
            // The payer gets nothing back (issue 12, attack 4): the requester does.
            if (excess != 0) {
                _balances[requester][address(0)] += excess;
                emit Deposited(requester, address(0), excess);
            }
        } else {
            if (msg.value != 0) revert JobMarketValueMismatch(0, msg.value);
            TokenTransfer.pull(terms.token, msg.sender, escrow);
        }
    }

    // --- lifecycle ------------------------------------------------------------------------

    /// @inheritdoc IJobMarket
    function claim(uint256 jobId, Job calldata job) external nonReentrant {
        Lock memory lock;
        (bytes4 problem, uint256 slot) = _claim(jobId, job, lock);
        if (problem != 0) _raiseClaim(problem, jobId, slot, JobStatus.Open, job, lock);
        _flushLock(lock);
    }


    /// @inheritdoc IJobMarket
    function claimBatch(uint256[] calldata jobIds, Job[] calldata jobs)
        external
        nonReentrant
        returns (uint256 done)
    {
        uint256 count = _checkBatch(jobIds.length);
        if (jobs.length != count) revert JobMarketLengthMismatch();
        Lock memory lock;
        for (uint256 i; i < count; ++i) {
            (bytes4 problem,) = _claim(jobIds[i], jobs[i], lock);
            if (problem != 0) _skip(jobIds[i], problem);
            else done |= 1 << i;
        }
        _flushLock(lock);
    }


    /// @inheritdoc IJobMarket
    function submitResult(uint256 jobId, Job calldata job, Result calldata result)
        external
        nonReentrant
    {
        Lock memory lock;
        (bytes4 problem, uint256 slot) = _submit(jobId, job, result, lock);
        if (problem != 0) _raiseClaim(problem, jobId, slot, JobStatus.Claimed, job, lock);
        _flushLock(lock);
    }


    /// @inheritdoc IJobMarket
    function submitBatch(uint256[] calldata jobIds, Job[] calldata jobs, Result[] calldata results)
        external
        nonReentrant
        returns (uint256 done)
    {
        uint256 count = _checkBatch(jobIds.length);
        if (jobs.length != count || results.length != count) revert JobMarketLengthMismatch();
        // Open jobs are claimed here, locking their collateral as in {claimBatch}.
        Lock memory lock;
        for (uint256 i; i < count; ++i) {
            (bytes4 problem,) = _submit(jobIds[i], jobs[i], results[i], lock);
            if (problem != 0) _skip(jobIds[i], problem);
            else done |= 1 << i;
        }
        _flushLock(lock);
    }


    /// @inheritdoc IJobMarket
    function finalize(uint256 jobId, Job calldata job) external nonReentrant {
        Ledger memory ledger;
        (bytes4 problem, uint256 slot) = _finalize(jobId, job, ledger);
        if (problem != 0) _raise(problem, jobId, slot, JobStatus.Submitted);
        _flush(ledger);
    }


    /// @inheritdoc IJobMarket
    function finalizeBatch(uint256[] calldata jobIds, Job[] calldata jobs)
        external
        nonReentrant
        returns (uint256 done)
    {
        uint256 count = _checkBatch(jobIds.length);
        if (jobs.length != count) revert JobMarketLengthMismatch();
        Ledger memory ledger;
        for (uint256 i; i < count; ++i) {
            (bytes4 problem,) = _finalize(jobIds[i], jobs[i], ledger);
            if (problem != 0) _skip(jobIds[i], problem);
            else done |= 1 << i;
        }
        _flush(ledger);
    }

    // --- rare paths: forwarded to JobMarketRare -------------------------------------------

    /// @inheritdoc IJobMarket
    function cancel(uint256, Job calldata) external {
        _delegate();
    }

    /// @inheritdoc IJobMarket
    function expire(uint256, Job calldata) external {
        _delegate();
    }

    /// @inheritdoc IJobMarket
    function reportFailure(uint256, Job calldata, bytes calldata) external {
        _delegate();
    }

    /// @inheritdoc IJobMarket
    function timeout(uint256, Job calldata) external {
        _delegate();
    }

    /// @inheritdoc IJobMarket
    function dispute(uint256, Job calldata) external payable {
        _delegate();
    }

    /// @inheritdoc IJobMarket
    function resolveDispute(uint256, Job calldata) external {
        _delegate();
    }

    /// @inheritdoc IJobMarket
    function expireDispute(uint256, Job calldata) external {
        _delegate();
    }

    /// @inheritdoc IJobMarket
    function deliver(uint256, Job calldata) external {
        _delegate();
    }

    /// @inheritdoc IJobMarketRouter
    function disputeFor(uint256, Job calldata, address) external returns (uint96) {
        _delegate();
    }

    /// @dev Runs this call's calldata in {JobMarketRare} on this market's storage and returns
    /// or reverts with its answer. The rare function takes the reentrancy guard itself.
    function _delegate() private {
        address rare = _RARE;
        assembly ("memory-safe") {
            calldatacopy(0, 0, calldatasize())
            let ok := delegatecall(gas(), rare, 0, calldatasize(), 0, 0)
            returndatacopy(0, 0, returndatasize())
            if iszero(ok) { revert(0, returndatasize()) }
            return(0, returndatasize())
        }
    }


    // --- router entry points --------------------------------------------------------------

    /// @inheritdoc IJobMarketRouter
    function openFor(IJobRouter.SignedJobRequest[] calldata items)
        external
        nonReentrant
        onlyRouter
        returns (uint256[] memory jobIds, uint256[] memory spent)
    {
        uint256 count = _checkBatch(items.length);
        jobIds = new uint256[](count);
        spent = new uint256[](count);
        ModelCache memory cache;
        for (uint256 i; i < count; ++i) {
            JobTerms memory terms;
            address requester = items[i].requester;
            (jobIds[i], terms) = _open(requester, items[i].request, cache);
            uint256 escrow = _escrowOf(terms);
            _debit(requester, terms.token, escrow);
            spent[i] = escrow;
        }
    }


    /// @inheritdoc IJobMarketRouter
    function depositFor(address owner, address token, uint256 amount) external nonReentrant onlyRouter {
        if (amount == 0) revert JobMarketZeroAmount();
        if (!_allowedTokens[token]) revert JobMarketTokenNotAllowed(token);
        _balances[owner][token] += amount;
        emit Deposited(owner, token, amount);
        // The router checked `owner`'s Deposit signature for exactly this amount, or `owner`
        // is the router's own caller: an allowance alone never moves tokens here.
        TokenTransfer.pull(token, owner, amount);
    }


    /// @inheritdoc IJobMarketRouter
    function router() external view returns (address) {
        return _ROUTER;
    }


    // --- balances -------------------------------------------------------------------------

    /// @inheritdoc IJobMarket
    function deposit(address token, uint256 amount) external payable nonReentrant {
        if (amount == 0) revert JobMarketZeroAmount();
        if (token != address(0) && !_allowedTokens[token]) revert JobMarketTokenNotAllowed(token);
        _balances[msg.sender][token] += amount;
        emit Deposited(msg.sender, token, amount);
        _collect(token, msg.sender, amount);
    }


    /// @inheritdoc IJobMarket
    function withdraw(address token, address to, uint256 amount) external nonReentrant {
        if (to == address(0)) revert JobMarketZeroAddress();
        if (amount == 0) revert JobMarketZeroAmount();
        _debit(msg.sender, token, amount);
        emit Withdrawn(msg.sender, token, to, amount);
        TokenTransfer.push(token, to, amount);
    }


    // --- admin: forwarded to JobMarketRare (governor only; the governor checks bounds) --

    /// @inheritdoc IJobMarketAdmin
    function applyConfig(Config calldata) external {
        _delegate();
    }

    /// @inheritdoc IJobMarketAdmin
    function registerMode(uint8, IVerifier, uint32, uint32, uint8) external {
        _delegate();
    }

    /// @inheritdoc IJobMarketAdmin
    function registerPricing(uint8, IPricing) external {
        _delegate();
    }

    /// @inheritdoc IJobMarketAdmin
    function setPricingEnabled(uint8, bool) external {
        _delegate();
    }

    /// @inheritdoc IJobMarketAdmin
    function setModeEnabled(uint8, bool) external {
        _delegate();
    }

    /// @inheritdoc IJobMarketAdmin
    function setTokenAllowed(address, bool) external {
        _delegate();
    }

    /// @inheritdoc IJobMarketAdmin
    function setPaused(bool) external {
        _delegate();
    }


    // --- views ----------------------------------------------------------------------------

    /// @inheritdoc IJobMarket
    function jobStatus(uint256 jobId) external view returns (JobStatus status, uint40 deadline) {
        uint256 slot = _jobs[jobId];
        return (_statusOf(jobId, slot), JobSlot.deadlineOf(slot));
    }


    /// @inheritdoc IJobMarket
    function jobCommitment(Job calldata job) external pure returns (bytes24) {
        return bytes24(bytes32(JobSlot.commitCalldata(job)));
    }

    /// @inheritdoc IJobMarket
    function isJob(uint256 jobId, Job calldata job) external view returns (bool) {
        uint256 slot = _jobs[jobId];
        return slot != 0 && JobSlot.commitmentOf(slot) == JobSlot.commitCalldata(job);
    }


    /// @inheritdoc IJobMarket
    function balanceOf(address account, address token) external view returns (uint256) {
        return _balances[account][token];
    }


    /// @inheritdoc IVenue
    function lockedOf(address worker, address token) external view returns (uint256) {
        return _exposure[worker][token].locked;
    }


    /// @inheritdoc IJobMarket
    function exposureOf(address worker, address token) external view returns (Exposure memory) {
        return _exposure[worker][token];
    }


    /// @inheritdoc IJobMarket
    function nextJobId() external view returns (uint256) {
        return _hot.nextJobId;
    }


    /// @inheritdoc IJobMarketAdmin
    function governor() external view returns (address) {
        return _GOVERNOR;
    }


    /// @inheritdoc IJobMarketAdmin
    function config() external view returns (Config memory) {
        Hot memory hot = _hot;
        return Config({feeBps: hot.feeBps, collateralBps: hot.collateralBps, disputeBondBps: hot.disputeBondBps});
    }


    /// @inheritdoc IJobMarketAdmin
    function modeOf(uint8 id) external view returns (Mode memory) {
        return _modes[id];
    }


    /// @inheritdoc IJobMarketAdmin
    function pricingOf(uint8 id) external view returns (Pricing memory) {
        return _pricings[id];
    }


    /// @inheritdoc IJobMarketAdmin
    function paused() external view returns (bool) {
        return _hot.paused;
    }


    /// @inheritdoc IJobMarketAdmin
    function isTokenAllowed(address token) external view returns (bool) {
        return token == address(0) || _allowedTokens[token];
    }


    /// @inheritdoc IJobMarket
    function modelRegistry() external view returns (address) {
        return address(_MODELS);
    }


    /// @inheritdoc IJobMarket
    function workerRegistry() external view returns (address) {
        return address(_WORKERS);
    }


    /// @dev Reports a batch item skipped for `problem` (issue 12, attack 7).
    function _skip(uint256 jobId, bytes4 problem) private {
        emit BatchItemSkipped(jobId, problem);
    }


    /// @dev Reverts with the error a single claim or submission reports for `problem`.
    function _raiseClaim(
        bytes4 problem,
        uint256 jobId,
        uint256 slot,
        JobStatus expected,
        Job calldata job,
        Lock memory lock
    ) private view {
        if (problem == JobMarketAllocationExceeded.selector) {
            revert JobMarketAllocationExceeded(
                msg.sender, lock.token, lock.locked, job.terms.collateral, lock.allocation
            );
        }
        _raise(problem, jobId, slot, expected);
    }


    /// @dev Locks `collateral` of `token` for the caller if it fits in its allocation to this
    /// market (issue 12, attack 2), in memory: {_flushLock} writes it. Switching tokens first
    /// writes the lock of the previous one and reads the new one's.
    function _reserve(Lock memory lock, address token, uint256 collateral) private returns (bool) {
        if (lock.ref == 0 || lock.token != token) {
            _flushLock(lock);
            Exposure storage e = _exposure[msg.sender][token];
            bytes32 ref;
            assembly ("memory-safe") {
                ref := e.slot
            }
            lock.ref = ref;
            lock.token = token;
            lock.locked = e.locked;
            lock.allocation = _WORKERS.allocationOf(msg.sender, token, address(this));
        }
        // Safe: the lock stays within the allocation, a uint96, and collateral is a uint96.
        unchecked {
            uint256 locked = lock.locked + collateral;
            if (locked > lock.allocation) return false;
            lock.locked = locked;
            lock.delta += collateral;
        }
        return true;
    }


    /// @dev Writes the collateral locked since the last write. A raw sum: the lock stays
    /// within the allocation, a uint96, so it never carries into the counters.
    function _flushLock(Lock memory lock) private {
        uint256 delta = lock.delta;
        if (delta == 0) return;
        bytes32 ref = lock.ref;
        assembly ("memory-safe") {
            sstore(ref, add(sload(ref), delta))
        }
        lock.delta = 0;
    }


    /// @dev Validates a request, snapshots its terms, stores the job and emits {JobCreated}.
    /// Payment ({_escrowOf}) is the caller's business. `cache` keeps the last model's terms
    /// across a batch.
    function _open(address requester, JobRequest calldata request, ModelCache memory cache)
        private
        returns (uint256 jobId, JobTerms memory terms)
    {
        Hot memory hot = _hot;
        if (hot.paused) revert JobMarketPaused();
        uint8 mode = request.verification;
        // The mode's one slot, read raw: module | challengeWindow | arbitrationWindow | hooks |
        // enabled (IJobMarketAdmin.Mode), cheaper than copying the struct to memory.
        uint256 modeWord;
        assembly ("memory-safe") {
            mstore(0, mode)
            mstore(0x20, _modes.slot)
            modeWord := sload(keccak256(0, 0x40))
        }
        if (uint8(modeWord >> 232) == 0) revert JobMarketVerificationDisabled(mode);
        _checkRequest(request);
        uint32 modelId = request.modelId;
        if (cache.terms.provider == address(0) || cache.modelId != modelId) {
            cache.modelId = modelId;
            cache.terms = _MODELS.terms(modelId);
            address token = cache.terms.token;
            if (token != address(0) && !_allowedTokens[token]) revert JobMarketTokenNotAllowed(token);
        }
        IModelRegistry.Terms memory model = cache.terms;
        terms.price = model.price;
        uint8 pricing = request.pricing;
        if (pricing != 0) {
            // A metered job escrows the most it may cost; payout charges its usage.
            Pricing memory p = _pricings[pricing];
            if (!p.enabled) revert JobMarketPricingDisabled(pricing);
            (terms.price, terms.pricingTerms) = p.module.quote(requester, modelId, model, request.pricingData);
            terms.pricing = pricing;
        }
        if (uint8(modeWord >> 224) & VerifierHooks.QUOTE != 0) {
            terms.verifyFee = IVerifier(address(uint160(modeWord))).quote(
                requester, modelId, model.token, terms.price
            );
        }
        uint256 cost;
        // Safe: two uint96 values.
        unchecked {
            cost = uint256(terms.price) + terms.verifyFee;
        }
        if (cost > request.maxPrice) revert JobMarketPriceAboveMax(cost, request.maxPrice);
        terms.token = model.token;
        terms.provider = model.provider;
        terms.royaltyBps = model.royaltyBps;
        terms.feeBps = hot.feeBps;
        terms.verification = mode;
        terms.workTime = request.workTime;
        terms.challengeWindow = uint32(modeWord >> 160);
        // Fits: price is a uint96 and the governor keeps disputeBondBps <= 5_000.
        terms.disputeBond = uint96(uint256(terms.price) * hot.disputeBondBps / 10_000);
        // At least 1 wei, so that every claim locks something; at most a uint96.
        uint256 collateral;
        // Safe: a uint96 times a uint16.
        unchecked {
            collateral = uint256(terms.price) * hot.collateralBps / 10_000;
        }
        if (collateral == 0) collateral = 1;
        else if (collateral > type(uint96).max) collateral = type(uint96).max;
        terms.collateral = uint96(collateral);
        terms.callback = request.callback;
        terms.callbackGas = request.callbackGas;
        terms.callbackFee = request.callbackFee;
        jobId = hot.nextJobId;
        _hot.nextJobId = hot.nextJobId + 1;
        _store(jobId, requester, request, terms, uint8(modeWord >> 224));
    }


    /// @dev Commits a new job, its input included, to its slot with its mode's hook flags and
    /// emits {JobCreated}.
    function _store(
        uint256 jobId,
        address requester,
        JobRequest calldata request,
        JobTerms memory terms,
        uint8 hooks
    ) private {
        (uint16 inputCodec, bytes32 inputDigest) = Cid.parse(request.inputCid);
        uint32 modelId = request.modelId;
        uint40 requestDeadline = request.requestDeadline;
        _jobs[jobId] = JobSlot.pack(
            JobSlot.commitNew(requester, modelId, inputCodec, inputDigest, terms) | (uint256(hooks) << 48),
            requestDeadline,
            JobStatus.Open
        );
        emit JobCreated(jobId, requester, modelId, terms, requestDeadline, request.inputCid);
    }


    /// @dev What a job holds in escrow until it settles.
    function _escrowOf(JobTerms memory terms) private pure returns (uint256) {
        // Safe: three uint96 values.
        unchecked {
            return uint256(terms.price) + terms.verifyFee + terms.callbackFee;
        }
    }


    /// @dev Claims for msg.sender, locking the job's collateral in `lock`, or returns the
    /// problem and changes nothing.
    function _claim(uint256 jobId, Job calldata job, Lock memory lock) private returns (bytes4 problem, uint256 slot) {
        (problem, slot) = _check(jobId, job, JobStatus.Open);
        if (problem == 0 && block.timestamp > JobSlot.deadlineOf(slot)) {
            problem = JobMarketRequestExpired.selector;
        }
        if (problem != 0) return (problem, slot);
        {
            (address token, uint256 collateral) = _lockTerms(job);
            if (!_reserve(lock, token, collateral)) return (JobMarketAllocationExceeded.selector, slot);
        }
        uint40 claimDeadline = uint40(block.timestamp) + job.terms.workTime;
        _jobs[jobId] = JobSlot.pack(
            JobSlot.commitClaimed(job, msg.sender) | (slot & JobSlot.HOOKS), claimDeadline, JobStatus.Claimed
        );
        emit JobClaimed(jobId, msg.sender, claimDeadline);
    }


    /// @dev Submits for msg.sender: on a job it claimed, or on an Open job, which it claims
    /// at once, locking its collateral in `lock`. A problem a third party can cause (or a
    /// collateral the allocation does not cover) is returned, changing nothing; another
    /// worker's job reverts. With the ON_SUBMIT hook the module checks the result after the
    /// slot is written: a rejection restores the slot (and the lock) and is returned as the
    /// problem; a win pays at once.
    function _submit(uint256 jobId, Job calldata job, Result calldata result, Lock memory lock)
        private
        returns (bytes4 problem, uint256 slot)
    {
        slot = _jobs[jobId];
        bool claimed;
        {
            JobStatus status = JobSlot.statusOf(slot);
            claimed = status == JobStatus.Open;
            if (!claimed && status != JobStatus.Claimed) {
                return (JobMarketInvalidStatus.selector, slot);
            }
        }
        if (JobSlot.commitmentOf(slot) != JobSlot.commitCalldata(job)) {
            return (JobMarketJobMismatch.selector, slot);
        }
        uint40 deadline = JobSlot.deadlineOf(slot);
        if (claimed) {
            // An Open job's tuple has no worker (the commitment matched), so none is replaced.
            if (block.timestamp > deadline) return (JobMarketRequestExpired.selector, slot);
            (address token, uint256 collateral) = _lockTerms(job);
            if (!_reserve(lock, token, collateral)) return (JobMarketAllocationExceeded.selector, slot);
        } else {
            if (msg.sender != job.worker) revert JobMarketNotWorker(jobId, msg.sender);
            if (block.timestamp > deadline) return (JobMarketClaimExpired.selector, slot);
        }
        if (JobSlot.hooksOf(slot) & VerifierHooks.ON_SUBMIT != 0) {
            return (_submitHooked(jobId, job, result, slot, lock, claimed), slot);
        }
        // No ON_SUBMIT hook (mode 0): the effects inline, with no module call.
        (uint16 codec, bytes32 digest) = Cid.parse(result.outputCid);
        deadline = uint40(block.timestamp) + job.terms.challengeWindow;
        _jobs[jobId] = JobSlot.pack(
            JobSlot.commitSubmitted(job, msg.sender, codec, digest, result.outputHash, result.usage)
                | (slot & JobSlot.HOOKS),
            deadline,
            JobStatus.Submitted
        );
        emit ResultSubmitted(jobId, msg.sender, result.outputCid, result.outputHash, result.usage, deadline);
    }


    /// @dev {_record}, with the lock written first (a win pays, and unlocks, the job at once)
    /// and taken back when the module rejects a job claimed by this submission.
    function _submitHooked(
        uint256 jobId,
        Job calldata job,
        Result calldata result,
        uint256 slot,
        Lock memory lock,
        bool claimed
    ) private returns (bytes4 problem) {
        _flushLock(lock);
        problem = _record(jobId, job, result, slot);
        if (problem != 0 && claimed) {
            uint256 collateral = job.terms.collateral;
            bytes32 ref = lock.ref;
            assembly ("memory-safe") {
                sstore(ref, sub(sload(ref), collateral))
            }
            lock.locked -= collateral;
        }
    }


    /// @dev The effects of a checked submission by msg.sender to a mode with the ON_SUBMIT
    /// hook; see {_submit}.
    function _record(uint256 jobId, Job calldata job, Result calldata result, uint256 slot)
        private
        returns (bytes4)
    {
        (uint16 codec, bytes32 digest) = Cid.parse(result.outputCid);
        uint40 challengeDeadline = uint40(block.timestamp) + job.terms.challengeWindow;
        uint256 head =
            JobSlot.commitSubmitted(job, msg.sender, codec, digest, result.outputHash, result.usage);
        _jobs[jobId] = JobSlot.pack(head | (slot & JobSlot.HOOKS), challengeDeadline, JobStatus.Submitted);
        IVerifier.Verdict verdict = _onSubmit(jobId, job, result, codec, digest);
        if (verdict == IVerifier.Verdict.WorkerLoses) {
            _jobs[jobId] = slot;
            return JobMarketProofRejected.selector;
        }
        emit ResultSubmitted(
            jobId, msg.sender, result.outputCid, result.outputHash, result.usage, challengeDeadline
        );
        if (verdict == IVerifier.Verdict.WorkerWins) _payNow(jobId, job, msg.sender, head, Outcome.Pay);
        return 0;
    }


    /// @dev Asks the job's module about a submission ({IVerifier-onSubmit}), showing it the
    /// tuple as committed. Encoded by hand: the tuple is copied from calldata as is.
    function _onSubmit(
        uint256 jobId,
        Job calldata job,
        Result calldata result,
        uint16 codec,
        bytes32 digest
    ) private returns (IVerifier.Verdict) {
        bytes calldata proof = result.proof;
        bytes32 outputHash = result.outputHash;
        bytes32 usage = result.usage;
        bytes memory data;
        assembly ("memory-safe") {
            data := mload(0x40)
            let args := add(data, 0x24) // length word, then the selector
            mstore(args, jobId)
            calldatacopy(add(args, 0x20), job, 800)
            mstore(add(args, 672), caller()) // 32 + worker at 640
            mstore(add(args, 704), codec)
            mstore(add(args, 736), digest)
            mstore(add(args, 768), outputHash)
            mstore(add(args, 800), usage)
            mstore(add(args, 832), 864) // offset of `proof` within the arguments
            mstore(add(args, 864), proof.length)
            calldatacopy(add(args, 896), proof.offset, proof.length)
            let end := add(add(args, 896), proof.length)
            mstore(end, 0) // zero padding
            let size := add(900, and(add(proof.length, 31), not(31))) // selector + arguments
            mstore(data, size)
            mstore(0x40, add(add(data, 0x20), size))
        }
        return _callVerifier(job, IVerifier.onSubmit.selector, data, false);
    }


    /// @dev Pays a matured job, or returns the problem and changes nothing. With the
    /// ON_FINALIZE hook the module's verdict decides; still pending, the result stands once
    /// the challenge window passed (the attack-1 rule).
    function _finalize(uint256 jobId, Job calldata job, Ledger memory ledger)
        private
        returns (bytes4 problem, uint256 slot)
    {
        (problem, slot) = _check(jobId, job, JobStatus.Submitted);
        if (problem != 0) return (problem, slot);
        if (JobSlot.hooksOf(slot) & VerifierHooks.ON_FINALIZE == 0) {
            if (block.timestamp <= JobSlot.deadlineOf(slot)) {
                return (JobMarketChallengeWindowOpen.selector, slot);
            }
            _pay(jobId, job, job.worker, slot, Outcome.Pay, ledger);
            return (0, slot);
        }
        IVerifier.Verdict verdict = _verdict(jobId, job);
        if (verdict == IVerifier.Verdict.Pending && block.timestamp <= JobSlot.deadlineOf(slot)) {
            return (JobMarketChallengeWindowOpen.selector, slot);
        }
        if (verdict == IVerifier.Verdict.WorkerLoses) {
            delete _jobs[jobId];
            (,,, uint256 slashed) = _settle(0, job, job.worker, Outcome.RefundAndSlashRejected, ledger);
            emit DisputeResolved(jobId, false, slashed);
        } else {
            _pay(jobId, job, job.worker, slot, Outcome.Pay, ledger);
        }
    }


    function _checkRequest(JobRequest calldata request) private view {
        uint40 deadline = request.requestDeadline;
        if (deadline < block.timestamp || deadline > block.timestamp + MAX_REQUEST_TTL) {
            revert JobMarketInvalidRequestDeadline(
                deadline, block.timestamp, block.timestamp + MAX_REQUEST_TTL
            );
        }
        if (request.workTime == 0 || request.workTime > MAX_WORK_TIME) {
            revert JobMarketInvalidWorkTime(request.workTime, MAX_WORK_TIME);
        }
        if (request.callbackGas > MAX_CALLBACK_GAS) {
            revert JobMarketCallbackGasTooHigh(request.callbackGas, MAX_CALLBACK_GAS);
        }
    }


    function _checkBatch(uint256 length) private pure returns (uint256) {
        if (length == 0 || length > MAX_BATCH) revert JobMarketInvalidBatchLength(length, MAX_BATCH);
        return length;
    }
}
