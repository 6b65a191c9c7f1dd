// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IArbiter} from "./interfaces/IArbiter.sol";
import {IInferenceConsumer} from "./interfaces/IInferenceConsumer.sol";
import {IJobMarket} from "./interfaces/IJobMarket.sol";
import {IJobMarketRouter} from "./interfaces/IJobMarketRouter.sol";
import {IJobRouter} from "./interfaces/IJobRouter.sol";
import {IModelRegistry} from "./interfaces/IModelRegistry.sol";
import {IWorkerRegistry} from "./interfaces/IWorkerRegistry.sol";
import {Cid} from "./libraries/Cid.sol";
import {JobSlot} from "./libraries/JobSlot.sol";
import {TokenTransfer} from "./libraries/TokenTransfer.sol";

/// @title JobMarket
/// @notice Escrow and lifecycle of inference jobs; see {IJobMarket} for the state machine and
/// the caveats of the one-slot job commitment.
///
/// Trust: the owner sets bounded parameters, allow-lists tokens, pauses new jobs, and names
/// each verification mode's arbiter once. It has no function that moves escrow or balances.
/// An arbiter decides only the disputes of its mode, only between the two outcomes the
/// market defines, and only before the arbitration deadline. The router (immutable) opens,
/// disputes and deposits only for accounts whose signatures it verified, or its own caller.
contract JobMarket is IJobMarket, IJobMarketRouter, Ownable2Step, ReentrancyGuardTransient {
    uint16 public constant MAX_PROTOCOL_FEE_BPS = 1_000;
    uint32 public constant MIN_CHALLENGE_WINDOW = 1;
    uint32 public constant MAX_CHALLENGE_WINDOW = 7 days;
    uint32 public constant MIN_ARBITRATION_WINDOW = 1 hours;
    uint32 public constant MAX_ARBITRATION_WINDOW = 30 days;
    uint16 public constant MAX_DISPUTE_BOND_BPS = 10_000;
    uint16 public constant MAX_SLASH_REWARD_BPS = 10_000;
    uint32 public constant MAX_WORK_TIME = 7 days;
    uint40 public constant MAX_REQUEST_TTL = 30 days;
    uint32 public constant MAX_CALLBACK_GAS = 1_000_000;
    /// @notice Gas kept back after a callback for the event and the rest of a batch item.
    uint256 public constant CALLBACK_GAS_RESERVE = 15_000;
    uint256 public constant MAX_BATCH = 50;
    uint8 public constant VERIFICATION_MODES = 8;

    /// @dev The hot slot: everything a creation reads (its id counter is written back).
    struct Config {
        address treasury;
        uint16 protocolFeeBps;
        uint8 enabledModes;
        bool paused;
        uint40 nextJobId;
        uint24 challengeWindow;
    }

    /// @dev Output of a finalized callback job, kept so a consumer can read it whatever its
    /// callback did.
    struct Result {
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
        Credit treasury;
        Credit requester;
        address settledWorker;
        uint256 settledCount;
    }

    /// @dev The last model's terms, so that a batch of requests calls the registry once.
    struct ModelCache {
        uint32 modelId;
        IModelRegistry.Terms terms;
    }

    /// @dev How a job's money is settled.
    enum Outcome {
        Pay,
        Refund,
        RefundAndSlash
    }

    IModelRegistry private immutable _MODELS;
    IWorkerRegistry private immutable _WORKERS;
    address private immutable _STAKE_TOKEN;
    address private immutable _ROUTER;

    Config private _config;
    Params private _params;
    mapping(uint256 jobId => uint256 slot) private _jobs;
    mapping(uint256 jobId => Result) private _results;
    mapping(address worker => uint256) private _settled;
    mapping(address account => mapping(address token => uint256)) private _balances;
    mapping(address token => bool) private _allowedTokens;
    mapping(uint8 mode => address) private _arbiters;

    constructor(
        address initialOwner,
        IModelRegistry models,
        IWorkerRegistry workers,
        address router_,
        address treasury_,
        uint16 protocolFeeBps_,
        Params memory params_
    ) Ownable(initialOwner) {
        if (router_ == address(0)) revert JobMarketZeroAddress();
        _MODELS = models;
        _WORKERS = workers;
        _STAKE_TOKEN = workers.stakeToken();
        _ROUTER = router_;
        _config.nextJobId = 1;
        setTreasury(treasury_);
        setProtocolFee(protocolFeeBps_);
        setParams(params_);
    }

    modifier onlyRouter() {
        if (msg.sender != _ROUTER) revert JobMarketNotRouter(msg.sender);
        _;
    }

    /// @notice Accepts ETH only from the worker registry: slashed stake on its way to balances.
    receive() external payable {
        if (msg.sender != address(_WORKERS)) revert JobMarketUnexpectedEth(msg.sender);
    }

    // --- creation -------------------------------------------------------------------------

    /// @inheritdoc IJobMarket
    function createJob(JobRequest calldata request)
        external
        payable
        nonReentrant
        returns (uint256 jobId)
    {
        ModelCache memory cache;
        JobTerms memory terms;
        (jobId, terms) = _open(msg.sender, request, cache);
        if (terms.token == address(0)) {
            if (msg.value < terms.price) revert JobMarketValueMismatch(terms.price, msg.value);
            // Safe: checked just above.
            uint256 excess;
            unchecked {
                excess = msg.value - terms.price;
            }
            if (excess != 0) {
                _balances[msg.sender][address(0)] += excess;
                emit Deposited(msg.sender, address(0), excess);
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
        if (block.timestamp <= deadline) revert JobMarketRequestNotExpired(jobId, deadline);
        delete _jobs[jobId];
        _settleNow(job, Outcome.Refund);
        emit JobExpired(jobId);
    }

    /// @inheritdoc IJobMarket
    function claim(uint256 jobId, Job calldata job) external nonReentrant {
        _claim(jobId, job);
        _WORKERS.acquire(msg.sender, job.modelId, 1);
    }

    /// @inheritdoc IJobMarket
    function claimBatch(uint256[] calldata jobIds, Job[] calldata jobs) external nonReentrant {
        uint256 count = _checkBatch(jobIds.length);
        if (jobs.length != count) revert JobMarketLengthMismatch();
        // The registry checks and counts a run of same-model jobs in one call.
        uint32 runModel = jobs[0].modelId;
        uint32 run;
        for (uint256 i; i < count; ++i) {
            uint32 modelId = jobs[i].modelId;
            if (modelId != runModel) {
                _WORKERS.acquire(msg.sender, runModel, run);
                (runModel, run) = (modelId, 0);
            }
            _claim(jobIds[i], jobs[i]);
            ++run;
        }
        _WORKERS.acquire(msg.sender, runModel, run);
    }

    /// @inheritdoc IJobMarket
    function submitResult(uint256 jobId, Job calldata job, bytes calldata outputCid, bytes32 outputHash)
        external
        nonReentrant
    {
        _submit(jobId, job, outputCid, outputHash);
    }

    /// @inheritdoc IJobMarket
    function submitBatch(
        uint256[] calldata jobIds,
        Job[] calldata jobs,
        bytes[] calldata outputCids,
        bytes32[] calldata outputHashes
    ) external nonReentrant {
        uint256 count = _checkBatch(jobIds.length);
        if (jobs.length != count || outputCids.length != count || outputHashes.length != count) {
            revert JobMarketLengthMismatch();
        }
        for (uint256 i; i < count; ++i) {
            _submit(jobIds[i], jobs[i], outputCids[i], outputHashes[i]);
        }
    }

    /// @inheritdoc IJobMarket
    function reportFailure(uint256 jobId, Job calldata job, bytes calldata evidenceCid)
        external
        nonReentrant
    {
        uint40 deadline = _load(jobId, job, JobStatus.Claimed);
        if (msg.sender != job.worker) revert JobMarketNotWorker(jobId, msg.sender);
        if (block.timestamp > deadline) revert JobMarketClaimExpired(jobId, deadline);
        Cid.parse(evidenceCid);
        delete _jobs[jobId];
        _settleNow(job, Outcome.Refund);
        emit JobFailed(jobId, msg.sender, evidenceCid);
    }

    /// @inheritdoc IJobMarket
    function timeout(uint256 jobId, Job calldata job) external nonReentrant {
        uint40 deadline = _load(jobId, job, JobStatus.Claimed);
        if (block.timestamp <= deadline) revert JobMarketClaimNotExpired(jobId, deadline);
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
        if (block.timestamp > deadline) revert JobMarketArbitrationClosed(jobId, deadline);
        IArbiter.Verdict verdict = IArbiter(_arbiters[job.terms.verification]).verdict(jobId, job);
        if (verdict == IArbiter.Verdict.Pending) revert JobMarketVerdictPending(jobId);
        delete _jobs[jobId];
        if (verdict == IArbiter.Verdict.WorkerWins) {
            emit DisputeResolved(jobId, true, 0);
            Ledger memory ledger;
            _pay(jobId, job, ledger);
            _flush(ledger);
        } else {
            uint256 slashed = _settleNow(job, Outcome.RefundAndSlash);
            emit DisputeResolved(jobId, false, slashed);
        }
    }

    /// @inheritdoc IJobMarket
    function expireDispute(uint256 jobId, Job calldata job) external nonReentrant {
        uint40 deadline = _load(jobId, job, JobStatus.Disputed);
        if (block.timestamp <= deadline) revert JobMarketArbitrationOpen(jobId, deadline);
        delete _jobs[jobId];
        _settleNow(job, Outcome.Refund);
        emit DisputeExpired(jobId);
    }

    /// @inheritdoc IJobMarket
    function finalize(uint256 jobId, Job calldata job) external nonReentrant {
        Ledger memory ledger;
        _finalize(jobId, job, ledger);
        _flush(ledger);
    }

    /// @inheritdoc IJobMarket
    function finalizeBatch(uint256[] calldata jobIds, Job[] calldata jobs) external nonReentrant {
        uint256 count = _checkBatch(jobIds.length);
        if (jobs.length != count) revert JobMarketLengthMismatch();
        Ledger memory ledger;
        for (uint256 i; i < count; ++i) {
            _finalize(jobIds[i], jobs[i], ledger);
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

    // --- admin ----------------------------------------------------------------------------

    /// @notice Where protocol fees and the treasury's share of slashes go from now on.
    /// Emits {TreasuryUpdated}.
    function setTreasury(address treasury_) public onlyOwner {
        if (treasury_ == address(0)) revert JobMarketZeroAddress();
        _config.treasury = treasury_;
        emit TreasuryUpdated(treasury_);
    }

    /// @notice Protocol fee for jobs created from now on (at most MAX_PROTOCOL_FEE_BPS).
    /// Emits {ProtocolFeeUpdated}.
    function setProtocolFee(uint16 feeBps) public onlyOwner {
        if (feeBps > MAX_PROTOCOL_FEE_BPS) {
            revert JobMarketParameterOutOfBounds(feeBps, 0, MAX_PROTOCOL_FEE_BPS);
        }
        _config.protocolFeeBps = feeBps;
        emit ProtocolFeeUpdated(feeBps);
    }

    /// @notice Windows, dispute bond and slash reward share; each within its constant bounds.
    /// The challenge window applies to jobs created after the change (each job keeps its
    /// snapshot); the others to disputes opened and slashes taken after it.
    /// Emits {ParamsUpdated}.
    function setParams(Params memory p) public onlyOwner {
        _checkBounds(p.challengeWindow, MIN_CHALLENGE_WINDOW, MAX_CHALLENGE_WINDOW);
        _checkBounds(p.arbitrationWindow, MIN_ARBITRATION_WINDOW, MAX_ARBITRATION_WINDOW);
        _checkBounds(p.disputeBondBps, 0, MAX_DISPUTE_BOND_BPS);
        _checkBounds(p.slashRewardBps, 0, MAX_SLASH_REWARD_BPS);
        _params = p;
        // Fits: MAX_CHALLENGE_WINDOW < 2^24. Kept beside the id counter so that creation
        // snapshots it into the job without another storage read.
        _config.challengeWindow = uint24(p.challengeWindow);
        emit ParamsUpdated(p);
    }

    /// @notice Allow or refuse an ERC-20 for new jobs and deposits; existing escrow and
    /// balances are unaffected. Emits {TokenAllowed}.
    function setTokenAllowed(address token, bool allowed) external onlyOwner {
        if (token == address(0)) revert JobMarketZeroAddress();
        _allowedTokens[token] = allowed;
        emit TokenAllowed(token, allowed);
    }

    /// @notice Name the arbiter of verification `mode`, once: nobody can change who decides
    /// the disputes of jobs already created under it. Emits {ArbiterSet}.
    function setArbiter(uint8 mode, address arbiter) external onlyOwner {
        if (arbiter == address(0)) revert JobMarketZeroAddress();
        if (mode >= VERIFICATION_MODES || _arbiters[mode] != address(0)) {
            revert JobMarketArbiterAlreadySet(mode, _arbiters[mode]);
        }
        _arbiters[mode] = arbiter;
        emit ArbiterSet(mode, arbiter);
    }

    /// @notice Offer or withdraw verification `mode` for new jobs. Emits {VerificationModeSet}.
    function setVerificationMode(uint8 mode, bool enabled) external onlyOwner {
        if (mode >= VERIFICATION_MODES || _arbiters[mode] == address(0)) revert JobMarketNoArbiter(mode);
        uint8 bit = uint8(1) << mode;
        uint8 modes = _config.enabledModes;
        _config.enabledModes = enabled ? modes | bit : modes & ~bit;
        emit VerificationModeSet(mode, enabled);
    }

    /// @notice Stop new jobs. Everything else (claims, settlement, withdrawals) keeps working.
    /// Emits {Paused}.
    function pause() external onlyOwner {
        if (_config.paused) revert JobMarketPauseUnchanged(true);
        _config.paused = true;
        emit Paused(msg.sender);
    }

    /// @notice Allow new jobs again. Emits {Unpaused}.
    function unpause() external onlyOwner {
        if (!_config.paused) revert JobMarketPauseUnchanged(false);
        _config.paused = false;
        emit Unpaused(msg.sender);
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
        Result memory result = _results[jobId];
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
        return _config.nextJobId;
    }

    /// @inheritdoc IJobMarket
    function treasury() external view returns (address) {
        return _config.treasury;
    }

    /// @inheritdoc IJobMarket
    function protocolFeeBps() external view returns (uint16) {
        return _config.protocolFeeBps;
    }

    /// @inheritdoc IJobMarket
    function params() external view returns (Params memory) {
        return _params;
    }

    /// @inheritdoc IJobMarket
    function paused() external view returns (bool) {
        return _config.paused;
    }

    /// @inheritdoc IJobMarket
    function isTokenAllowed(address token) external view returns (bool) {
        return token == address(0) || _allowedTokens[token];
    }

    /// @inheritdoc IJobMarket
    function arbiterOf(uint8 mode) external view returns (address) {
        return _arbiters[mode];
    }

    /// @inheritdoc IJobMarket
    function verificationEnabled(uint8 mode) external view returns (bool) {
        return mode < VERIFICATION_MODES && (_config.enabledModes >> mode) & 1 == 1;
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
        uint256 slot = _jobs[jobId];
        if (JobSlot.statusOf(slot) != expected) {
            revert JobMarketInvalidStatus(jobId, _statusOf(jobId, slot), expected);
        }
        if (JobSlot.commitmentOf(slot) != JobSlot.commitCalldata(job)) {
            revert JobMarketJobMismatch(jobId);
        }
        return JobSlot.deadlineOf(slot);
    }

    /// @dev Validates a request, snapshots its terms, stores the job and emits {JobCreated}.
    /// Payment is the caller's business. `cache` keeps the last model's terms across a batch.
    function _open(address requester, JobRequest calldata request, ModelCache memory cache)
        private
        returns (uint256 jobId, JobTerms memory terms)
    {
        Config memory config = _config;
        if (config.paused) revert JobMarketPaused();
        uint8 mode = request.verification;
        if (mode >= VERIFICATION_MODES || (config.enabledModes >> mode) & 1 == 0) {
            revert JobMarketVerificationDisabled(mode);
        }
        _checkRequestTiming(request);
        uint32 modelId = request.modelId;
        if (cache.terms.provider == address(0) || cache.modelId != modelId) {
            cache.modelId = modelId;
            cache.terms = _MODELS.terms(modelId);
            address token = cache.terms.token;
            if (token != address(0) && !_allowedTokens[token]) revert JobMarketTokenNotAllowed(token);
        }
        IModelRegistry.Terms memory model = cache.terms;
        if (model.price > request.maxPrice) revert JobMarketPriceAboveMax(model.price, request.maxPrice);
        Cid.parse(request.inputCid);
        terms.token = model.token;
        terms.price = model.price;
        terms.provider = model.provider;
        terms.royaltyBps = model.royaltyBps;
        terms.feeBps = config.protocolFeeBps;
        terms.verification = mode;
        terms.workTime = request.workTime;
        terms.challengeWindow = config.challengeWindow;
        terms.callback = request.callback;
        terms.callbackGas = request.callbackGas;
        jobId = config.nextJobId;
        _config.nextJobId = config.nextJobId + 1;
        uint40 requestDeadline = request.requestDeadline;
        _jobs[jobId] = JobSlot.pack(
            JobSlot.commitNew(requester, modelId, terms), requestDeadline, JobStatus.Open
        );
        emit JobCreated(jobId, requester, modelId, terms, requestDeadline, request.inputCid);
    }

    /// @dev Claims for msg.sender; the caller has the registry check and count it (after the
    /// job checks: a failure anywhere reverts the whole call).
    function _claim(uint256 jobId, Job calldata job) private {
        uint40 deadline = _load(jobId, job, JobStatus.Open);
        if (block.timestamp > deadline) revert JobMarketRequestExpired(jobId, deadline);
        uint40 claimDeadline = uint40(block.timestamp) + job.terms.workTime;
        _jobs[jobId] =
            JobSlot.pack(JobSlot.commitClaimed(job, msg.sender), claimDeadline, JobStatus.Claimed);
        emit JobClaimed(jobId, msg.sender, claimDeadline);
    }

    /// @dev Opens a dispute of `jobId` for `requester`; the caller collects the bond.
    function _dispute(uint256 jobId, Job calldata job, address requester) private returns (uint96 bond) {
        uint40 deadline = _load(jobId, job, JobStatus.Submitted);
        if (requester != job.requester) revert JobMarketNotRequester(jobId, requester);
        if (block.timestamp > deadline) revert JobMarketChallengeWindowClosed(jobId, deadline);
        Params memory p = _params;
        // Fits: price is a uint96 and disputeBondBps <= 10_000.
        bond = uint96(uint256(job.terms.price) * p.disputeBondBps / 10_000);
        uint40 arbitrationDeadline = uint40(block.timestamp) + p.arbitrationWindow;
        _jobs[jobId] =
            JobSlot.pack(JobSlot.commitDisputed(job, bond), arbitrationDeadline, JobStatus.Disputed);
        emit JobDisputed(jobId, bond, arbitrationDeadline);
    }

    function _submit(uint256 jobId, Job calldata job, bytes calldata outputCid, bytes32 outputHash)
        private
    {
        uint40 deadline = _load(jobId, job, JobStatus.Claimed);
        if (msg.sender != job.worker) revert JobMarketNotWorker(jobId, msg.sender);
        if (block.timestamp > deadline) revert JobMarketClaimExpired(jobId, deadline);
        (uint16 codec, bytes32 digest) = Cid.parse(outputCid);
        uint40 challengeDeadline = uint40(block.timestamp) + job.terms.challengeWindow;
        _jobs[jobId] = JobSlot.pack(
            JobSlot.commitSubmitted(job, codec, digest, outputHash), challengeDeadline, JobStatus.Submitted
        );
        emit ResultSubmitted(jobId, msg.sender, outputCid, outputHash, challengeDeadline);
    }

    function _finalize(uint256 jobId, Job calldata job, Ledger memory ledger) private {
        uint40 deadline = _load(jobId, job, JobStatus.Submitted);
        if (block.timestamp <= deadline) revert JobMarketChallengeWindowOpen(jobId, deadline);
        delete _jobs[jobId];
        _pay(jobId, job, ledger);
    }

    /// @dev Pays a finished job, then tells its callback: last, with every credit written,
    /// because it is untrusted code.
    function _pay(uint256 jobId, Job calldata job, Ledger memory ledger) private {
        (uint256 workerAmount, uint256 royalty, uint256 fee,) = _settle(job, Outcome.Pay, ledger);
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
            if (outcome == Outcome.RefundAndSlash) slashed = _WORKERS.slash(worker);
        }
        address token = job.terms.token;
        if (outcome == Outcome.Pay) {
            uint256 price = job.terms.price;
            royalty = price * job.terms.royaltyBps / 10_000;
            fee = price * job.terms.feeBps / 10_000;
            // Safe: royaltyBps + feeBps <= 5_000 + 1_000 < 10_000, so royalty + fee < price.
            unchecked {
                workerAmount = price - royalty - fee + job.bond;
            }
            _credit(ledger.worker, worker, token, workerAmount);
            _credit(ledger.provider, job.terms.provider, token, royalty);
            _credit(ledger.treasury, _config.treasury, token, fee);
        } else {
            address requester = job.requester;
            _credit(ledger.requester, requester, token, uint256(job.terms.price) + job.bond);
            if (slashed != 0) {
                uint256 reward = slashed * _params.slashRewardBps / 10_000;
                _credit(ledger.requester, requester, _STAKE_TOKEN, reward);
                _credit(ledger.treasury, _config.treasury, _STAKE_TOKEN, slashed - reward);
            }
        }
    }

    /// @dev Adds to a pending credit; a different account or token first writes the old one.
    /// Within a batch paying the same worker, provider and treasury in the same token, each
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
        _write(ledger.treasury);
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
        _results[jobId] = Result({codec: job.outputCodec, digest: job.outputDigest});
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
        return jobId != 0 && jobId < _config.nextJobId ? JobStatus.Settled : JobStatus.None;
    }

    function _checkRequestTiming(JobRequest calldata request) private view {
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

    function _checkBounds(uint256 value, uint256 min, uint256 max) private pure {
        if (value < min || value > max) revert JobMarketParameterOutOfBounds(value, min, max);
    }
}
