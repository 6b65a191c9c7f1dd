// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IInferenceConsumer} from "./interfaces/IInferenceConsumer.sol";
import {IJobMarket} from "./interfaces/IJobMarket.sol";
import {IJobMarketAdmin} from "./interfaces/IJobMarketAdmin.sol";
import {IJobMarketRouter} from "./interfaces/IJobMarketRouter.sol";
import {IJobRouter} from "./interfaces/IJobRouter.sol";
import {IModelRegistry} from "./interfaces/IModelRegistry.sol";
import {IVerifier} from "./interfaces/IVerifier.sol";
import {IWorkerRegistry} from "./interfaces/IWorkerRegistry.sol";
import {Cid} from "./libraries/Cid.sol";
import {JobSlot} from "./libraries/JobSlot.sol";
import {MarketBounds} from "./libraries/MarketBounds.sol";
import {TokenTransfer} from "./libraries/TokenTransfer.sol";

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
/// Every slash goes to the harmed requester. The router (immutable) opens, disputes and
/// deposits only for accounts whose signatures it verified, or its own caller.
contract JobMarket is IJobMarket, IJobMarketAdmin, IJobMarketRouter, ReentrancyGuardTransient {
    uint32 public constant MAX_WORK_TIME = 7 days;
    uint40 public constant MAX_REQUEST_TTL = 30 days;
    uint32 public constant MAX_CALLBACK_GAS = 1_000_000;
    /// @notice Gas kept back after a callback for the event and the rest of a batch item.
    uint256 public constant CALLBACK_GAS_RESERVE = 15_000;
    uint256 public constant MAX_BATCH = 50;

    /// @dev The hot slot: what a creation reads besides its mode (its id counter is written
    /// back), and the dispute bond.
    struct Hot {
        uint40 nextJobId;
        bool paused;
        uint16 feeBps;
        uint16 disputeBondBps;
    }

    /// @dev Output of a finalized callback job, kept so a consumer can read it whatever its
    /// callback did.
    struct StoredResult {
        uint16 codec;
        bytes32 digest;
    }

    /// @dev A credit not yet written to `_balances` (see {_credit}).
    struct Credit {
        address account;
        address token;
        uint256 amount;
    }

    /// @dev Pending credits and settled-job count of one transaction, by role.
    struct Ledger {
        Credit worker;
        Credit provider;
        Credit fees;
        Credit requester;
        address settledWorker;
        uint256 settledCount;
    }

    /// @dev The last model's terms, so that a batch of requests calls the registry once.
    struct ModelCache {
        uint32 modelId;
        IModelRegistry.Terms terms;
    }

    /// @dev How a job's money is settled. A paid dispute bond (`terms.disputeBond`) goes to
    /// the worker when it won (`PayWon`), back to the requester when nobody decided
    /// (`PayUncontested`) or the worker lost (`RefundAndSlashDisputed`).
    enum Outcome {
        Pay,
        PayWon,
        PayUncontested,
        Refund,
        RefundAndSlash,
        RefundAndSlashDisputed
    }

    IModelRegistry private immutable _MODELS;
    IWorkerRegistry private immutable _WORKERS;
    address private immutable _STAKE_TOKEN;
    address private immutable _ROUTER;
    /// @dev The only admin, and the fee account: immutable, so settlement reads no slot for it.
    address private immutable _GOVERNOR;

    Hot private _hot;
    mapping(uint256 jobId => uint256 slot) private _jobs;
    mapping(uint256 jobId => StoredResult) private _results;
    mapping(address worker => uint256) private _settled;
    mapping(address account => mapping(address token => uint256)) private _balances;
    mapping(address token => bool) private _allowedTokens;
    mapping(uint8 id => Mode) private _modes;

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
    ) {
        if (governor_ == address(0) || router_ == address(0)) revert JobMarketZeroAddress();
        _GOVERNOR = governor_;
        _MODELS = models;
        _WORKERS = workers;
        _STAKE_TOKEN = workers.stakeToken();
        _ROUTER = router_;
        _hot.nextJobId = 1;
        MarketBounds.checkConfig(config_);
        _applyConfig(config_);
        for (uint256 i; i < modes.length; ++i) {
            IVerifier module = modes[i].module;
            (uint32 challengeWindow, uint32 arbitrationWindow) = MarketBounds.windowsOf(module);
            _registerMode(modes[i].id, module, challengeWindow, arbitrationWindow);
            _setModeEnabled(modes[i].id, true);
        }
        for (uint256 i; i < tokens.length; ++i) {
            _setTokenAllowed(tokens[i], true);
        }
    }

    modifier onlyRouter() {
        if (msg.sender != _ROUTER) revert JobMarketNotRouter(msg.sender);
        _;
    }

    modifier onlyGovernor() {
        if (msg.sender != _GOVERNOR) revert JobMarketNotGovernor(msg.sender);
        _;
    }

    /// @notice Accepts ETH only from the worker registry: slashed stake on its way to balances.
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
        if (terms.token == address(0)) {
            if (msg.value < terms.price) revert JobMarketValueMismatch(terms.price, msg.value);
            // Safe: checked just above.
            uint256 excess;
            unchecked {
                excess = msg.value - terms.price;
            }
            // The payer gets nothing back (issue 12, attack 4): the requester does.
            if (excess != 0) {
                _balances[requester][address(0)] += excess;
                emit Deposited(requester, address(0), excess);
            }
        } else {
            if (msg.value != 0) revert JobMarketValueMismatch(0, msg.value);
            TokenTransfer.pull(terms.token, msg.sender, terms.price);
        }
    }

    // --- lifecycle ------------------------------------------------------------------------

    /// @inheritdoc IJobMarket
    function cancel(uint256 jobId, Job calldata job) external nonReentrant {
        _load(jobId, job, JobStatus.Open);
        if (msg.sender != job.requester) revert JobMarketNotRequester(jobId, msg.sender);
        delete _jobs[jobId];
        _settleNow(job, Outcome.Refund);
        emit JobCancelled(jobId);
    }

    /// @inheritdoc IJobMarket
    function expire(uint256 jobId, Job calldata job) external nonReentrant {
        uint40 deadline = _load(jobId, job, JobStatus.Open);
        if (block.timestamp <= deadline) _revertAt(JobMarketRequestNotExpired.selector, jobId, deadline);
        delete _jobs[jobId];
        _settleNow(job, Outcome.Refund);
        emit JobExpired(jobId);
    }

    /// @inheritdoc IJobMarket
    function claim(uint256 jobId, Job calldata job) external nonReentrant {
        (bytes4 problem, uint256 slot) = _claim(jobId, job);
        if (problem != 0) _raise(problem, jobId, slot, JobStatus.Open);
        _WORKERS.acquire(msg.sender, job.modelId, 1);
    }

    /// @inheritdoc IJobMarket
    function claimBatch(uint256[] calldata jobIds, Job[] calldata jobs)
        external
        nonReentrant
        returns (uint256 done)
    {
        uint256 count = _checkBatch(jobIds.length);
        if (jobs.length != count) revert JobMarketLengthMismatch();
        // The registry checks and counts a run of same-model claims in one call.
        uint32 runModel;
        uint32 run;
        for (uint256 i; i < count; ++i) {
            (bytes4 problem,) = _claim(jobIds[i], jobs[i]);
            if (problem != 0) {
                _skip(jobIds[i], problem);
                continue;
            }
            done |= 1 << i;
            (runModel, run) = _count(jobs[i].modelId, runModel, run);
        }
        if (run != 0) _WORKERS.acquire(msg.sender, runModel, run);
    }

    /// @inheritdoc IJobMarket
    function submitResult(uint256 jobId, Job calldata job, Result calldata result)
        external
        nonReentrant
    {
        (bytes4 problem, uint256 slot, bool claimed) = _submit(jobId, job, result);
        if (problem != 0) _raise(problem, jobId, slot, JobStatus.Claimed);
        if (claimed) _WORKERS.acquire(msg.sender, job.modelId, 1);
    }

    /// @inheritdoc IJobMarket
    function submitBatch(uint256[] calldata jobIds, Job[] calldata jobs, Result[] calldata results)
        external
        nonReentrant
        returns (uint256 done)
    {
        uint256 count = _checkBatch(jobIds.length);
        if (jobs.length != count || results.length != count) revert JobMarketLengthMismatch();
        // Open jobs are claimed here: the registry checks and counts each run of same-model
        // claims in one call, as in {claimBatch}.
        uint32 runModel;
        uint32 run;
        for (uint256 i; i < count; ++i) {
            (bytes4 problem,, bool claimed) = _submit(jobIds[i], jobs[i], results[i]);
            if (problem != 0) {
                _skip(jobIds[i], problem);
                continue;
            }
            done |= 1 << i;
            if (claimed) (runModel, run) = _count(jobs[i].modelId, runModel, run);
        }
        if (run != 0) _WORKERS.acquire(msg.sender, runModel, run);
    }

    /// @inheritdoc IJobMarket
    function reportFailure(uint256 jobId, Job calldata job, bytes calldata evidenceCid)
        external
        nonReentrant
    {
        uint40 deadline = _load(jobId, job, JobStatus.Claimed);
        if (msg.sender != job.worker) revert JobMarketNotWorker(jobId, msg.sender);
        if (block.timestamp > deadline) _revertAt(JobMarketClaimExpired.selector, jobId, deadline);
        Cid.parse(evidenceCid);
        delete _jobs[jobId];
        _settleNow(job, Outcome.Refund);
        emit JobFailed(jobId, msg.sender, evidenceCid);
    }

    /// @inheritdoc IJobMarket
    function timeout(uint256 jobId, Job calldata job) external nonReentrant {
        uint40 deadline = _load(jobId, job, JobStatus.Claimed);
        if (block.timestamp <= deadline) _revertAt(JobMarketClaimNotExpired.selector, jobId, deadline);
        delete _jobs[jobId];
        uint256 slashed = _settleNow(job, Outcome.RefundAndSlash);
        emit JobTimedOut(jobId, job.worker, slashed);
    }

    /// @inheritdoc IJobMarket
    function dispute(uint256 jobId, Job calldata job) external payable nonReentrant {
        uint96 bond = _dispute(jobId, job, msg.sender);
        _collect(job.terms.token, msg.sender, bond);
    }

    /// @inheritdoc IJobMarket
    function resolveDispute(uint256 jobId, Job calldata job) external nonReentrant {
        uint40 deadline = _load(jobId, job, JobStatus.Disputed);
        if (block.timestamp > deadline) _revertAt(JobMarketArbitrationClosed.selector, jobId, deadline);
        IVerifier.Verdict verdict = _modes[job.terms.verification].module.verdict(jobId, job);
        if (verdict == IVerifier.Verdict.Pending) revert JobMarketVerdictPending(jobId);
        delete _jobs[jobId];
        if (verdict == IVerifier.Verdict.WorkerWins) {
            emit DisputeResolved(jobId, true, 0);
            Ledger memory ledger;
            _pay(jobId, job, Outcome.PayWon, ledger);
            _flush(ledger);
        } else {
            uint256 slashed = _settleNow(job, Outcome.RefundAndSlashDisputed);
            emit DisputeResolved(jobId, false, slashed);
        }
    }

    /// @inheritdoc IJobMarket
    function expireDispute(uint256 jobId, Job calldata job) external nonReentrant {
        uint40 deadline = _load(jobId, job, JobStatus.Disputed);
        if (block.timestamp <= deadline) _revertAt(JobMarketArbitrationOpen.selector, jobId, deadline);
        delete _jobs[jobId];
        // Attack 1 (issue 12): silence must not hand the disputer a free result. The result
        // stands, as if never disputed; only the bond goes back.
        emit DisputeExpired(jobId);
        Ledger memory ledger;
        _pay(jobId, job, Outcome.PayUncontested, ledger);
        _flush(ledger);
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
            _debit(requester, terms.token, terms.price);
            spent[i] = terms.price;
        }
    }

    /// @inheritdoc IJobMarketRouter
    function disputeFor(uint256 jobId, Job calldata job, address requester)
        external
        nonReentrant
        onlyRouter
        returns (uint96 bond)
    {
        bond = _dispute(jobId, job, requester);
        _debit(requester, job.terms.token, bond);
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

    // --- admin (governor only; the governor checks bounds) ------------------------------

    /// @inheritdoc IJobMarketAdmin
    function applyConfig(Config calldata config_) external onlyGovernor {
        _applyConfig(config_);
    }

    /// @inheritdoc IJobMarketAdmin
    function registerMode(uint8 id, IVerifier module, uint32 challengeWindow, uint32 arbitrationWindow)
        external
        onlyGovernor
    {
        _registerMode(id, module, challengeWindow, arbitrationWindow);
    }

    /// @inheritdoc IJobMarketAdmin
    function setModeEnabled(uint8 id, bool enabled) external onlyGovernor {
        _setModeEnabled(id, enabled);
    }

    /// @inheritdoc IJobMarketAdmin
    function setTokenAllowed(address token, bool allowed) external onlyGovernor {
        _setTokenAllowed(token, allowed);
    }

    /// @inheritdoc IJobMarketAdmin
    function setPaused(bool paused_) external onlyGovernor {
        _hot.paused = paused_;
        emit Paused(paused_);
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
    function resultCid(uint256 jobId) external view returns (bytes memory) {
        StoredResult memory result = _results[jobId];
        if (result.digest == bytes32(0)) return "";
        return Cid.build(result.codec, result.digest);
    }

    /// @inheritdoc IJobMarket
    function balanceOf(address account, address token) external view returns (uint256) {
        return _balances[account][token];
    }

    /// @inheritdoc IJobMarket
    function settledJobs(address worker) external view returns (uint256) {
        return _settled[worker];
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
        return Config({feeBps: _hot.feeBps, disputeBondBps: _hot.disputeBondBps});
    }

    /// @inheritdoc IJobMarketAdmin
    function modeOf(uint8 id) external view returns (Mode memory) {
        return _modes[id];
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

    // --- transitions ----------------------------------------------------------------------

    /// @dev Checks `job` against the stored commitment and status; returns the status deadline.
    function _load(uint256 jobId, Job calldata job, JobStatus expected)
        private
        view
        returns (uint40 deadline)
    {
        (bytes4 problem, uint256 slot) = _check(jobId, job, expected);
        if (problem != 0) _raise(problem, jobId, slot, expected);
        return JobSlot.deadlineOf(slot);
    }

    /// @dev {_load} without reverting, so a batch can skip the item (issue 12, attack 7):
    /// `problem` is the selector of the error {_raise} rebuilds, zero when the job matches.
    function _check(uint256 jobId, Job calldata job, JobStatus expected)
        private
        view
        returns (bytes4 problem, uint256 slot)
    {
        slot = _jobs[jobId];
        if (JobSlot.statusOf(slot) != expected) return (JobMarketInvalidStatus.selector, slot);
        if (JobSlot.commitmentOf(slot) != JobSlot.commitCalldata(job)) {
            return (JobMarketJobMismatch.selector, slot);
        }
    }

    /// @dev Reverts with the typed error `problem` names: what a single call reports.
    function _raise(bytes4 problem, uint256 jobId, uint256 slot, JobStatus expected) private view {
        if (problem == JobMarketInvalidStatus.selector) {
            revert JobMarketInvalidStatus(jobId, _statusOf(jobId, slot), expected);
        }
        if (problem == JobMarketJobMismatch.selector) revert JobMarketJobMismatch(jobId);
        // Every other problem is a deadline error shaped (uint256 jobId, uint40 deadline).
        _revertAt(problem, jobId, JobSlot.deadlineOf(slot));
    }

    /// @dev Reverts with the deadline error `selector(jobId, deadline)`: one encoder for all.
    function _revertAt(bytes4 selector, uint256 jobId, uint40 deadline) private pure {
        assembly ("memory-safe") {
            let data := mload(0x40)
            mstore(data, selector)
            mstore(add(data, 4), jobId)
            mstore(add(data, 36), and(deadline, 0xffffffffff)) // clean: a uint40 may carry high bits
            revert(data, 68)
        }
    }

    /// @dev Reports a batch item skipped for `problem` (issue 12, attack 7).
    function _skip(uint256 jobId, bytes4 problem) private {
        emit BatchItemSkipped(jobId, problem);
    }

    /// @dev Extends the run of same-model claims, first handing a finished run to the
    /// registry, which checks and counts it in one call.
    function _count(uint32 modelId, uint32 runModel, uint32 run) private returns (uint32, uint32) {
        if (run != 0 && modelId != runModel) {
            _WORKERS.acquire(msg.sender, runModel, run);
            run = 0;
        }
        return (modelId, run + 1);
    }

    /// @dev Validates a request, snapshots its terms, stores the job and emits {JobCreated}.
    /// Payment is the caller's business. `cache` keeps the last model's terms across a batch.
    function _open(address requester, JobRequest calldata request, ModelCache memory cache)
        private
        returns (uint256 jobId, JobTerms memory terms)
    {
        Hot memory hot = _hot;
        if (hot.paused) revert JobMarketPaused();
        uint8 mode = request.verification;
        uint32 challengeWindow = _enabledWindow(mode);
        _checkRequest(request);
        uint32 modelId = request.modelId;
        if (cache.terms.provider == address(0) || cache.modelId != modelId) {
            cache.modelId = modelId;
            cache.terms = _MODELS.terms(modelId);
            address token = cache.terms.token;
            if (token != address(0) && !_allowedTokens[token]) revert JobMarketTokenNotAllowed(token);
        }
        IModelRegistry.Terms memory model = cache.terms;
        if (model.price > request.maxPrice) revert JobMarketPriceAboveMax(model.price, request.maxPrice);
        terms.token = model.token;
        terms.price = model.price;
        terms.provider = model.provider;
        terms.royaltyBps = model.royaltyBps;
        terms.feeBps = hot.feeBps;
        terms.verification = mode;
        terms.workTime = request.workTime;
        terms.challengeWindow = challengeWindow;
        // Fits: price is a uint96 and the governor keeps disputeBondBps <= 5_000.
        terms.disputeBond = uint96(uint256(model.price) * hot.disputeBondBps / 10_000);
        terms.callback = request.callback;
        terms.callbackGas = request.callbackGas;
        jobId = hot.nextJobId;
        _hot.nextJobId = hot.nextJobId + 1;
        _store(jobId, requester, request, terms);
    }

    /// @dev Commits a new job, its input included, to its slot and emits {JobCreated}.
    function _store(uint256 jobId, address requester, JobRequest calldata request, JobTerms memory terms)
        private
    {
        (uint16 inputCodec, bytes32 inputDigest) = Cid.parse(request.inputCid);
        uint32 modelId = request.modelId;
        uint40 requestDeadline = request.requestDeadline;
        _jobs[jobId] = JobSlot.pack(
            JobSlot.commitNew(requester, modelId, inputCodec, inputDigest, terms),
            requestDeadline,
            JobStatus.Open
        );
        emit JobCreated(jobId, requester, modelId, terms, requestDeadline, request.inputCid);
    }

    /// @dev Claims for msg.sender, or returns the problem and changes nothing; the caller
    /// has the registry check and count the claim.
    function _claim(uint256 jobId, Job calldata job) private returns (bytes4 problem, uint256 slot) {
        (problem, slot) = _check(jobId, job, JobStatus.Open);
        if (problem == 0 && block.timestamp > JobSlot.deadlineOf(slot)) {
            problem = JobMarketRequestExpired.selector;
        }
        if (problem != 0) return (problem, slot);
        uint40 claimDeadline = uint40(block.timestamp) + job.terms.workTime;
        _jobs[jobId] =
            JobSlot.pack(JobSlot.commitClaimed(job, msg.sender), claimDeadline, JobStatus.Claimed);
        emit JobClaimed(jobId, msg.sender, claimDeadline);
    }

    /// @dev Opens a dispute of `jobId` for `requester`; the caller collects the bond, which
    /// was fixed at creation. The tuple does not change: only the slot's status and deadline.
    function _dispute(uint256 jobId, Job calldata job, address requester) private returns (uint96 bond) {
        uint40 deadline = _load(jobId, job, JobStatus.Submitted);
        if (requester != job.requester) revert JobMarketNotRequester(jobId, requester);
        if (block.timestamp > deadline) _revertAt(JobMarketChallengeWindowClosed.selector, jobId, deadline);
        bond = job.terms.disputeBond;
        uint40 arbitrationDeadline =
            uint40(block.timestamp) + _modes[job.terms.verification].arbitrationWindow;
        _jobs[jobId] = JobSlot.pack(
            JobSlot.commitmentOf(_jobs[jobId]), arbitrationDeadline, JobStatus.Disputed
        );
        emit JobDisputed(jobId, bond, arbitrationDeadline);
    }

    /// @dev Submits for msg.sender: on a job it claimed, or on an Open job, which it claims
    /// at once (`claimed` true: the caller has the registry check and count the claim). A
    /// problem a third party can cause is returned, changing nothing; another worker's job
    /// reverts.
    function _submit(uint256 jobId, Job calldata job, Result calldata result)
        private
        returns (bytes4 problem, uint256 slot, bool claimed)
    {
        slot = _jobs[jobId];
        JobStatus status = JobSlot.statusOf(slot);
        claimed = status == JobStatus.Open;
        if (!claimed && status != JobStatus.Claimed) {
            return (JobMarketInvalidStatus.selector, slot, false);
        }
        if (JobSlot.commitmentOf(slot) != JobSlot.commitCalldata(job)) {
            return (JobMarketJobMismatch.selector, slot, false);
        }
        uint40 deadline = JobSlot.deadlineOf(slot);
        if (claimed) {
            // An Open job's tuple has no worker (the commitment matched), so none is replaced.
            if (block.timestamp > deadline) return (JobMarketRequestExpired.selector, slot, false);
        } else {
            if (msg.sender != job.worker) revert JobMarketNotWorker(jobId, msg.sender);
            if (block.timestamp > deadline) return (JobMarketClaimExpired.selector, slot, false);
        }
        (uint16 codec, bytes32 digest) = Cid.parse(result.outputCid);
        uint40 challengeDeadline = uint40(block.timestamp) + job.terms.challengeWindow;
        _jobs[jobId] = JobSlot.pack(
            JobSlot.commitSubmitted(job, msg.sender, codec, digest, result.outputHash, result.usage),
            challengeDeadline,
            JobStatus.Submitted
        );
        emit ResultSubmitted(
            jobId, msg.sender, result.outputCid, result.outputHash, result.usage, challengeDeadline
        );
    }

    /// @dev Pays a matured job, or returns the problem and changes nothing.
    function _finalize(uint256 jobId, Job calldata job, Ledger memory ledger)
        private
        returns (bytes4 problem, uint256 slot)
    {
        (problem, slot) = _check(jobId, job, JobStatus.Submitted);
        if (problem == 0 && block.timestamp <= JobSlot.deadlineOf(slot)) {
            problem = JobMarketChallengeWindowOpen.selector;
        }
        if (problem != 0) return (problem, slot);
        delete _jobs[jobId];
        _pay(jobId, job, Outcome.Pay, ledger);
    }

    /// @dev Pays a finished job (`Pay`, `PayWon`, `PayUncontested`), then tells its callback:
    /// last, with every credit written, because it is untrusted code.
    function _pay(uint256 jobId, Job calldata job, Outcome outcome, Ledger memory ledger) private {
        (uint256 workerAmount, uint256 royalty, uint256 fee,) = _settle(job, outcome, ledger);
        emit JobFinalized(jobId, job.worker, workerAmount, royalty, fee);
        if (job.terms.callback != address(0)) {
            _flush(ledger);
            _deliver(jobId, job);
        }
    }

    // --- money ----------------------------------------------------------------------------

    /// @dev {_settle} for one job, its credits written at once.
    function _settleNow(Job calldata job, Outcome outcome) private returns (uint256 slashed) {
        Ledger memory ledger;
        (,,, slashed) = _settle(job, outcome, ledger);
        _flush(ledger);
    }

    /// @dev The one settlement path: every payout, royalty, fee, refund, bond and slash of a
    /// job goes through here into `ledger`, which {_flush} writes to the pull balances. Callers
    /// clear the job slot first. A slash calls the worker registry before crediting because
    /// only it knows the amount; it is immutable and trusted, and the cleared slot makes a
    /// replay impossible anyway.
    function _settle(Job calldata job, Outcome outcome, Ledger memory ledger)
        private
        returns (uint256 workerAmount, uint256 royalty, uint256 fee, uint256 slashed)
    {
        address worker = job.worker;
        if (worker != address(0)) {
            // The registry's claim count minus this is what the worker still holds.
            if (ledger.settledWorker != worker) {
                _flushSettled(ledger);
                ledger.settledWorker = worker;
            }
            ledger.settledCount += 1;
            if (outcome >= Outcome.RefundAndSlash) slashed = _WORKERS.slash(worker);
        }
        address token = job.terms.token;
        if (outcome <= Outcome.PayUncontested) {
            uint256 price = job.terms.price;
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
            address requester = job.requester;
            uint256 bond = outcome == Outcome.RefundAndSlashDisputed ? job.terms.disputeBond : 0;
            _credit(ledger.requester, requester, token, uint256(job.terms.price) + bond);
            // The whole slash compensates the requester (issue 12, attack 3).
            _credit(ledger.requester, requester, _STAKE_TOKEN, slashed);
        }
    }

    /// @dev Adds to a pending credit; a different account or token first writes the old one.
    /// Within a batch paying the same worker, provider and fee account in the same token, each
    /// balance is then written once instead of once per job.
    function _credit(Credit memory pending, address account, address token, uint256 amount) private {
        if (amount == 0) return;
        if (pending.account != account || pending.token != token) {
            _write(pending);
            pending.account = account;
            pending.token = token;
        }
        pending.amount += amount;
    }

    function _write(Credit memory pending) private {
        if (pending.amount != 0) {
            _balances[pending.account][pending.token] += pending.amount;
            pending.amount = 0;
        }
    }

    function _flush(Ledger memory ledger) private {
        _write(ledger.worker);
        _write(ledger.provider);
        _write(ledger.fees);
        _write(ledger.requester);
        _flushSettled(ledger);
    }

    function _flushSettled(Ledger memory ledger) private {
        if (ledger.settledCount != 0) {
            _settled[ledger.settledWorker] += ledger.settledCount;
            ledger.settledCount = 0;
        }
    }

    function _debit(address account, address token, uint256 amount) private {
        uint256 balance = _balances[account][token];
        if (balance < amount) revert JobMarketInsufficientBalance(account, token, balance, amount);
        // Safe: checked just above.
        unchecked {
            _balances[account][token] = balance - amount;
        }
    }

    /// @dev Takes exactly `amount` from the caller: ETH as value, or a measured ERC-20 pull.
    function _collect(address token, address from, uint256 amount) private {
        if (token == address(0)) {
            if (msg.value != amount) revert JobMarketValueMismatch(amount, msg.value);
        } else {
            if (msg.value != 0) revert JobMarketValueMismatch(0, msg.value);
            if (amount != 0) TokenTransfer.pull(token, from, amount);
        }
    }

    // --- callbacks ------------------------------------------------------------------------

    /// @dev Stores the result, then calls the consumer with its stipend. Payment is already
    /// credited, so whatever the consumer does (revert, burn gas, reenter into a guarded
    /// function) only makes `success` false.
    function _deliver(uint256 jobId, Job calldata job) private {
        address callback = job.terms.callback;
        _results[jobId] = StoredResult({codec: job.outputCodec, digest: job.outputDigest});
        bytes memory data = abi.encodeCall(
            IInferenceConsumer.onInferenceResult, (jobId, Cid.build(job.outputCodec, job.outputDigest))
        );
        uint256 stipend = job.terms.callbackGas;
        // EIP-150 forwards at most 63/64 of the gas left: demand enough that the whole stipend
        // arrives, so a finalizer cannot starve a callback on purpose.
        uint256 needed = stipend + stipend / 63 + CALLBACK_GAS_RESERVE;
        if (gasleft() < needed) revert JobMarketInsufficientCallbackGas(gasleft(), needed);
        bool success;
        assembly ("memory-safe") {
            // No return data is copied: a consumer cannot make the market pay for a huge revert.
            success := call(stipend, callback, 0, add(data, 0x20), mload(data), 0, 0)
        }
        emit CallbackDelivered(jobId, callback, success);
    }

    // --- helpers --------------------------------------------------------------------------

    function _statusOf(uint256 jobId, uint256 slot) private view returns (JobStatus) {
        if (slot != 0) return JobSlot.statusOf(slot);
        return jobId != 0 && jobId < _hot.nextJobId ? JobStatus.Settled : JobStatus.None;
    }

    /// @dev The challenge window of `mode`, which must be registered and enabled.
    function _enabledWindow(uint8 mode) private view returns (uint32) {
        Mode storage m = _modes[mode];
        if (!m.enabled) revert JobMarketVerificationDisabled(mode);
        return m.challengeWindow;
    }

    function _applyConfig(Config memory config_) private {
        _hot.feeBps = config_.feeBps;
        _hot.disputeBondBps = config_.disputeBondBps;
        emit ConfigUpdated(config_);
    }

    /// @dev A module is set once per id and never replaced, whoever governs: a job's mode
    /// keeps deciding its disputes with the windows it was created under.
    function _registerMode(uint8 id, IVerifier module, uint32 challengeWindow, uint32 arbitrationWindow)
        private
    {
        if (address(module) == address(0)) revert JobMarketZeroAddress();
        address current = address(_modes[id].module);
        if (current != address(0)) revert JobMarketModeTaken(id, current);
        _modes[id] = Mode(module, challengeWindow, arbitrationWindow, false);
        emit ModeRegistered(id, address(module), challengeWindow, arbitrationWindow);
    }

    function _setModeEnabled(uint8 id, bool enabled) private {
        Mode storage m = _modes[id];
        if (address(m.module) == address(0)) revert JobMarketModeUnknown(id);
        m.enabled = enabled;
        emit ModeEnabled(id, enabled);
    }

    function _setTokenAllowed(address token, bool allowed) private {
        if (token == address(0)) revert JobMarketZeroAddress();
        _allowedTokens[token] = allowed;
        emit TokenAllowed(token, allowed);
    }

    function _checkRequest(JobRequest calldata request) private view {
        // Metered pricing and callback bounties get their logic in later slices; until then a
        // request that asks for them is refused rather than silently treated as flat.
        if (request.pricing != 0) revert JobMarketPricingDisabled(request.pricing);
        if (request.callbackFee != 0) revert JobMarketCallbackFeeUnsupported(request.callbackFee);
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
