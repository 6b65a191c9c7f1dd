// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IJobMarket
/// @notice Escrow and lifecycle of inference jobs.
///
///   Open ──claim──▶ Claimed ──submitResult──▶ Submitted ──finalize (window passed)──▶ paid (Paid ──deliver──▶ callback run)
///    │ cancel / expire  │ reportFailure / timeout   │ dispute (within window)
///    ▼                  ▼                           ▼
///  refunded          refunded (+slash on timeout)  Disputed ──resolveDispute──▶ paid + bond to the worker,
///                                                    │                         or refunded + bond + slash
///                                                    └──expireDispute (nobody decided in time)──▶
///                                                       paid as by finalize, bond back to the requester
///
/// Caveats a caller must know:
/// - Storage keeps one slot per job: a 192-bit commitment to the {Job} tuple, the deadline of
///   the current status and the status. Every transition therefore takes the job tuple as an
///   argument; rebuild it from {JobCreated} (plus `worker` from {JobClaimed} or
///   {ResultSubmitted}, and the output from {ResultSubmitted}). A wrong tuple reverts with
///   {JobMarketJobMismatch}.
/// - {submitResult} on an Open job claims and submits at once (no {JobClaimed}).
/// - Settled jobs free their slot: {jobStatus} reports `Settled`; the outcome is in the events.
/// - Money is never pushed during the lifecycle: every payout, refund, fee, royalty, bond and
///   slash is credited to a per-token balance that its owner takes out with {withdraw}.
/// - Batches skip an item a third party made ineligible and report it ({BatchItemSkipped}).
/// - A claim locks the job's collateral within the worker's allocation to this market in the
///   shared worker registry ({IVenue-lockedOf}); every end of the claimed job unlocks it, and
///   a timeout, a lost dispute or a failure report slashes (part of) it to the requester.
/// - Signed requests, signed disputes, deposits by signature and session signers live in the
///   shared {IJobRouter}, which reaches the market through {IJobMarketRouter}.
interface IJobMarket {
    /// @notice Stored status of a job. `Paid`: a callback job is paid and its callback is due
    /// ({deliver}, within DELIVERY_WINDOW). `Settled` is never stored: a freed slot below the
    /// next job id reads as Settled, and the event tells which way it settled.
    enum JobStatus {
        None,
        Open,
        Claimed,
        Submitted,
        Disputed,
        Paid,
        Settled
    }

    /// @notice What a job fixed at creation besides its requester, model and input: snapshots
    /// of the model's terms, the protocol fee, the dispute bond and its mode's challenge window
    /// (later changes by the provider or the governor never touch this job), and the
    /// requester's choices. {JobCreated} emits it.
    /// `price` is the flat price, or for a metered job (`pricing` nonzero) the most it may
    /// charge, with `pricingTerms` from its pricing module's quote. `verifyFee` is the
    /// mode's QUOTE, escrowed with the price; `callbackFee` is the {deliver} bounty. The
    /// escrow is `price + verifyFee + callbackFee`. `collateral` (`max(1, price * collateralBps /
    /// 10_000)`) is what a claim locks of the worker's allocation to this market in `token`.
    struct JobTerms {
        address token;
        uint96 price;
        address provider;
        uint16 royaltyBps;
        uint16 feeBps;
        uint8 verification;
        uint8 pricing;
        uint32 workTime;
        uint32 challengeWindow;
        uint96 collateral;
        uint96 disputeBond;
        uint96 verifyFee;
        address callback;
        uint32 callbackGas;
        uint96 callbackFee;
        bytes32 pricingTerms;
    }

    /// @notice Everything the contract needs about a job, committed to by its storage slot.
    /// Rebuild it from {JobCreated} (requester, modelId, terms, and the input's codec and
    /// digest parsed from `inputCid`; the rest zero), then set `worker` from {JobClaimed} or
    /// {ResultSubmitted}, and the output fields from {ResultSubmitted} (codec and digest are
    /// parsed from the output CID). A dispute changes only the slot, not the tuple.
    /// The job commits its input (`inputCodec`, `inputDigest`) so a verification module can
    /// bind a proof or a re-execution to it from the tuple alone.
    struct Job {
        address requester;
        uint32 modelId;
        uint16 inputCodec;
        bytes32 inputDigest;
        JobTerms terms;
        address worker;
        uint16 outputCodec;
        bytes32 outputDigest;
        bytes32 outputHash;
        bytes32 usage;
    }

    /// @notice A worker's collateral lock and public record in one token, one slot.
    /// @param locked Collateral of its Claimed, Submitted and Disputed jobs ({IVenue-lockedOf}).
    /// @param paid Jobs paid (finalized, dispute won or expired).
    /// @param failed Jobs it reported failed.
    /// @param timedOut Jobs it let time out.
    /// @param disputesLost Disputes (or verdicts at finalize) lost.
    /// @param disputesWon Disputes won.
    struct Exposure {
        uint96 locked;
        uint32 paid;
        uint32 failed;
        uint32 timedOut;
        uint32 disputesLost;
        uint32 disputesWon;
    }

    /// @notice What a requester asks for.
    /// @param modelId Model to run.
    /// @param inputCid CIDv1 (sha2-256) of the input on IPFS.
    /// @param requestDeadline Last second at which a worker may claim (or submit unclaimed).
    /// @param workTime Seconds a worker has from its claim to submit.
    /// @param verification Verification mode: its module decides disputes and fixes the
    /// challenge and arbitration windows.
    /// @param maxPrice Most the requester pays for the job and its verification:
    /// `price + verifyFee <= maxPrice` (the callback fee comes on top).
    /// @param pricing Pricing mode: 0 flat (the model's price), or a registered and enabled
    /// pricing module, whose quote becomes the job's price (the most it may charge).
    /// @param pricingData The pricing mode's parameters (0 for flat).
    /// @param callback Contract told the result by {deliver}, or address(0).
    /// @param callbackGas Gas the callback gets (at most MAX_CALLBACK_GAS).
    /// @param callbackFee Bounty escrowed for whoever calls {deliver} in time.
    struct JobRequest {
        uint32 modelId;
        bytes inputCid;
        uint96 maxPrice;
        uint40 requestDeadline;
        uint32 workTime;
        uint8 verification;
        uint8 pricing;
        bytes32 pricingData;
        address callback;
        uint32 callbackGas;
        uint96 callbackFee;
    }

    /// @notice What a worker submits.
    /// @param outputCid CIDv1 (sha2-256) of the output on IPFS.
    /// @param outputHash sha-256 of the output's canonical form (what disputes judge).
    /// @param usage The worker's meter reading (0 for flat pricing), committed to the job.
    /// @param proof For verification modes with the ON_SUBMIT hook ({IVerifier-onSubmit});
    /// empty for mode 0.
    struct Result {
        bytes outputCid;
        bytes32 outputHash;
        bytes32 usage;
        bytes proof;
    }

    // --- errors -------------------------------------------------------------------------

    /// @notice Thrown when a job is not in the status a transition needs.
    error JobMarketInvalidStatus(uint256 jobId, JobStatus current, JobStatus expected);
    /// @notice Thrown when the job tuple passed does not match the job's commitment.
    error JobMarketJobMismatch(uint256 jobId);
    /// @notice Thrown when `caller` acts for the requester of `jobId` without being it.
    error JobMarketNotRequester(uint256 jobId, address caller);
    /// @notice Thrown when `caller` acts for the worker of `jobId` without being it.
    error JobMarketNotWorker(uint256 jobId, address caller);
    /// @notice Thrown when a job is claimed after its request deadline.
    error JobMarketRequestExpired(uint256 jobId, uint40 deadline);
    /// @notice Thrown when an open job is expired before its request deadline passed.
    error JobMarketRequestNotExpired(uint256 jobId, uint40 deadline);
    /// @notice Thrown when a worker submits or reports after its claim deadline.
    error JobMarketClaimExpired(uint256 jobId, uint40 deadline);
    /// @notice Thrown when a claimed job is timed out before its claim deadline passed.
    error JobMarketClaimNotExpired(uint256 jobId, uint40 deadline);
    /// @notice Thrown when a job is finalized while its challenge window is open.
    error JobMarketChallengeWindowOpen(uint256 jobId, uint40 deadline);
    /// @notice Thrown when a job is disputed after its challenge window closed.
    error JobMarketChallengeWindowClosed(uint256 jobId, uint40 deadline);
    /// @notice Thrown when a dispute is expired before its arbitration deadline passed.
    error JobMarketArbitrationOpen(uint256 jobId, uint40 deadline);
    /// @notice Thrown when a dispute is resolved after its arbitration deadline passed.
    error JobMarketArbitrationClosed(uint256 jobId, uint40 deadline);
    /// @notice Thrown when the arbiter has not decided yet.
    error JobMarketVerdictPending(uint256 jobId);
    /// @notice Thrown when new jobs are requested while the market is paused.
    error JobMarketPaused();
    /// @notice Thrown when a job names a verification mode that is not registered and enabled.
    error JobMarketVerificationDisabled(uint8 mode);
    /// @notice Thrown when a request deadline is in the past or too far ahead.
    error JobMarketInvalidRequestDeadline(uint40 deadline, uint256 min, uint256 max);
    /// @notice Thrown when the work time is zero or above MAX_WORK_TIME.
    error JobMarketInvalidWorkTime(uint32 workTime, uint32 max);
    /// @notice Thrown when the callback gas is above MAX_CALLBACK_GAS.
    error JobMarketCallbackGasTooHigh(uint32 callbackGas, uint32 max);
    /// @notice Thrown when the model's price is above the requester's limit.
    error JobMarketPriceAboveMax(uint256 price, uint256 maxPrice);
    /// @notice Thrown when a job or deposit uses an ERC-20 that is not allowed.
    error JobMarketTokenNotAllowed(address token);
    /// @notice Thrown when the ETH sent differs from what the call needs.
    error JobMarketValueMismatch(uint256 expected, uint256 sent);
    /// @notice Thrown when a balance is too small for a withdrawal, a signed job or a signed dispute.
    error JobMarketInsufficientBalance(address account, address token, uint256 balance, uint256 needed);
    /// @notice Thrown when a batch is empty or longer than MAX_BATCH.
    error JobMarketInvalidBatchLength(uint256 length, uint256 max);
    /// @notice Thrown when the arrays of a batch have different lengths.
    error JobMarketLengthMismatch();
    /// @notice Thrown when a deliverer leaves too little gas for a job's callback stipend.
    error JobMarketInsufficientCallbackGas(uint256 available, uint256 needed);
    /// @notice Thrown when an address parameter is zero.
    error JobMarketZeroAddress();
    /// @notice Thrown when an amount is zero.
    error JobMarketZeroAmount();
    /// @notice Thrown when ETH arrives from anyone but the worker registry (slashes).
    error JobMarketUnexpectedEth(address sender);
    /// @notice Thrown when a request names a pricing mode that is not registered and enabled.
    error JobMarketPricingDisabled(uint8 id);
    /// @notice Thrown when the job's verification module rejected a submitted result
    /// ({IVerifier-onSubmit} returned `WorkerLoses`).
    error JobMarketProofRejected(uint256 jobId);
    /// @notice Thrown when a claim's collateral does not fit in what `worker` allocated to
    /// this market: `locked + collateral > allocation` (a batch skips the item instead).
    error JobMarketAllocationExceeded(
        address worker, address token, uint256 locked, uint256 collateral, uint256 allocation
    );

    // --- events -------------------------------------------------------------------------

    /// @notice Emitted when a job was created and its price escrowed. With the topics, `terms`
    /// gives the {Job} tuple every later transition takes; `inputCid` is the full input CID.
    event JobCreated(
        uint256 indexed jobId,
        address indexed requester,
        uint32 indexed modelId,
        JobTerms terms,
        uint40 requestDeadline,
        bytes inputCid
    );
    /// @notice Emitted when the requester cancelled an open job (refunded).
    event JobCancelled(uint256 indexed jobId);
    /// @notice Emitted when an open job expired unclaimed (refunded).
    event JobExpired(uint256 indexed jobId);
    /// @notice Emitted when `worker` claimed a job; it must submit by `deadline`.
    event JobClaimed(uint256 indexed jobId, address indexed worker, uint40 deadline);
    /// @notice Emitted when the worker submitted; the challenge window ends at `challengeDeadline`.
    /// On an Open job it also stands for the claim by `worker`.
    event ResultSubmitted(
        uint256 indexed jobId,
        address indexed worker,
        bytes outputCid,
        bytes32 outputHash,
        bytes32 usage,
        uint40 challengeDeadline
    );
    /// @notice Emitted when the worker reported the input invalid: refunded, and `fee` of its
    /// collateral slashed to the requester (1 % early, up to all of it at the deadline).
    event JobFailed(uint256 indexed jobId, address indexed worker, bytes evidenceCid, uint256 fee);
    /// @notice Emitted when a claimed job passed its deadline (refunded; the worker slashed,
    /// all of it to the requester).
    event JobTimedOut(uint256 indexed jobId, address indexed worker, uint256 slashed);
    /// @notice Emitted when the requester disputed with `bond`; the arbiter has until
    /// `arbitrationDeadline`.
    event JobDisputed(uint256 indexed jobId, uint96 bond, uint40 arbitrationDeadline);
    /// @notice Emitted when the mode's verdict was applied (a slash goes to the requester).
    event DisputeResolved(uint256 indexed jobId, bool workerWins, uint256 slashed);
    /// @notice Emitted when nobody decided in time: the result stands. {JobFinalized} follows:
    /// the worker is paid as by {finalize}, the bond goes back to the requester, nobody is
    /// slashed.
    event DisputeExpired(uint256 indexed jobId);
    /// @notice Emitted when a job was paid: worker (with the bond when it won a dispute),
    /// provider royalty and protocol fee (credited to the governor's account), out of what
    /// the job charged (its price, or for a metered job see {JobCharged}). A job with a
    /// callback is now `Paid`, waiting for {deliver}.
    event JobFinalized(
        uint256 indexed jobId, address indexed worker, uint256 workerAmount, uint256 royalty, uint256 fee
    );
    /// @notice Emitted before {JobFinalized} for a metered job (`terms.pricing` nonzero): what
    /// its usage cost (`charged`, at most its price) and the rest of the price, `refund`,
    /// credited back to the requester. Flat jobs emit nothing, so their payout stays as cheap.
    event JobCharged(uint256 indexed jobId, uint256 charged, uint256 refund);
    /// @notice Emitted when `deliverer` ran a paid job's callback and earned its callback fee;
    /// `success` false (the consumer reverted or ran out of gas) changes nothing else.
    event CallbackDelivered(
        uint256 indexed jobId, address indexed callback, address deliverer, bool success
    );
    /// @notice Emitted when a paid job's callback was not delivered in time: the callback fee
    /// went back to the requester and the callback was skipped.
    event DeliveryExpired(uint256 indexed jobId);
    /// @notice Emitted when `amount` joined `account`'s balance from outside (deposit, excess ETH).
    event Deposited(address indexed account, address indexed token, uint256 amount);
    /// @notice Emitted when a batch skipped `jobId`: `reason` is the selector of the error a
    /// single call would have reverted with.
    event BatchItemSkipped(uint256 indexed jobId, bytes4 reason);

    /// @notice Emitted when `account` took `amount` out to `to`.
    event Withdrawn(address indexed account, address indexed token, address to, uint256 amount);

    // --- jobs ---------------------------------------------------------------------------

    /// @notice Create a job for `requester`, paid now by the caller: ETH as value or the
    /// model's ERC-20 through the caller's allowance. The payer gets nothing back: excess ETH,
    /// refunds and slash rewards are credited to `requester`, who alone may cancel or dispute.
    /// Emits {JobCreated}.
    function createJob(address requester, JobRequest calldata request)
        external
        payable
        returns (uint256 jobId);

    /// @notice Requester takes back an unclaimed job. Emits {JobCancelled}.
    function cancel(uint256 jobId, Job calldata job) external;

    /// @notice Anyone refunds an open job once its request deadline passed. Emits {JobExpired}.
    function expire(uint256 jobId, Job calldata job) external;

    /// @notice An eligible worker takes the job until now + workTime. Emits {JobClaimed}.
    function claim(uint256 jobId, Job calldata job) external;

    /// @notice {claim} for up to MAX_BATCH jobs. An item a third party made ineligible
    /// (status changed, stale tuple, request deadline passed) is skipped with
    /// {BatchItemSkipped}; the rest go through (issue 12, attack 7).
    /// @return done Bit i set when item i was claimed.
    function claimBatch(uint256[] calldata jobIds, Job[] calldata jobs) external returns (uint256 done);

    /// @notice The worker publishes its result and opens the challenge window. On a job it
    /// claimed, before its claim deadline; on an Open job (before its request deadline) the
    /// caller claims and submits in one transaction. Emits {ResultSubmitted}.
    function submitResult(uint256 jobId, Job calldata job, Result calldata result) external;

    /// @notice {submitResult} for up to MAX_BATCH jobs, Open or claimed by the caller. An item
    /// whose status changed, whose tuple is stale or whose deadline passed is skipped with
    /// {BatchItemSkipped}; a claimed job held by another worker still reverts the batch.
    /// @return done Bit i set when item i was submitted.
    function submitBatch(uint256[] calldata jobIds, Job[] calldata jobs, Result[] calldata results)
        external
        returns (uint256 done);

    /// @notice The worker declares the input invalid: refund, and a failure fee of
    /// `collateral * max(100, 10_000 * held / workTime) / 10_000` (held: seconds since the
    /// claim) slashed to the requester. Emits {JobFailed}.
    function reportFailure(uint256 jobId, Job calldata job, bytes calldata evidenceCid) external;

    /// @notice Anyone refunds a claimed job past its deadline; the worker is slashed.
    /// Emits {JobTimedOut}.
    function timeout(uint256 jobId, Job calldata job) external;

    /// @notice The requester contests a result within the window, paying the bond fixed at
    /// creation (`terms.disputeBond`; ETH as value, or the job's ERC-20 through an
    /// allowance). Emits {JobDisputed}.
    function dispute(uint256 jobId, Job calldata job) external payable;

    /// @notice Anyone applies the arbiter's verdict before the arbitration deadline.
    /// Emits {DisputeResolved} (and {JobFinalized} when the worker wins).
    function resolveDispute(uint256 jobId, Job calldata job) external;

    /// @notice Anyone settles a dispute nobody decided before the arbitration deadline: the
    /// result stands, so the job is paid exactly as {finalize} pays it (callback included),
    /// the bond goes back to the requester and nobody is slashed. A silent arbiter rewards
    /// neither side. Emits {DisputeExpired}, then {JobFinalized}.
    function expireDispute(uint256 jobId, Job calldata job) external;

    /// @notice Anyone pays out a job whose challenge window passed. It never runs foreign
    /// code but the job's verification module: a job with a callback becomes `Paid` and waits
    /// for {deliver}. With the mode's ON_FINALIZE hook the module's verdict decides: the
    /// worker losing settles as a lost dispute (refund, slash); winning pays at once; still
    /// pending pays once the challenge window passed. Emits {JobFinalized} (or
    /// {DisputeResolved} when the verdict went against the worker).
    function finalize(uint256 jobId, Job calldata job) external;

    /// @notice Anyone runs a `Paid` job's callback with exactly its `callbackGas` within
    /// DELIVERY_WINDOW of payment, and earns its `callbackFee`; after the window the callback
    /// is skipped and the fee goes back to the requester. The caller must send enough gas
    /// for the whole stipend ({JobMarketInsufficientCallbackGas}). Emits {CallbackDelivered}
    /// or {DeliveryExpired}.
    function deliver(uint256 jobId, Job calldata job) external;

    /// @notice {finalize} for up to MAX_BATCH jobs. An item already settled or disputed, with
    /// a stale tuple or a window still open is skipped with {BatchItemSkipped}.
    /// @return done Bit i set when item i was finalized.
    function finalizeBatch(uint256[] calldata jobIds, Job[] calldata jobs) external returns (uint256 done);

    // --- balances -----------------------------------------------------------------------

    /// @notice Credit the caller's balance (ETH as value). Emits {Deposited}.
    function deposit(address token, uint256 amount) external payable;

    /// @notice Take `amount` of the caller's balance out to `to`. Emits {Withdrawn}.
    function withdraw(address token, address to, uint256 amount) external;

    // --- views --------------------------------------------------------------------------

    /// @notice Status of a job and the deadline of that status (request, claim, challenge or
    /// arbitration deadline; zero once settled).
    function jobStatus(uint256 jobId) external view returns (JobStatus status, uint40 deadline);

    /// @notice The commitment a job tuple must match (the top 192 bits of its hash).
    function jobCommitment(Job calldata job) external pure returns (bytes24);

    /// @notice Whether `job` is the tuple the market holds for the live job `jobId`, so a
    /// module (the committee court) can trust a tuple a caller hands it.
    function isJob(uint256 jobId, Job calldata job) external view returns (bool);

    /// @notice `account`'s withdrawable balance of `token` (address(0) for ETH).
    function balanceOf(address account, address token) external view returns (uint256);

    /// @notice `worker`'s collateral lock in `token` and its record of claimed jobs ended
    /// in this market, by outcome.
    function exposureOf(address worker, address token) external view returns (Exposure memory);

    /// @notice The id the next job will get.
    function nextJobId() external view returns (uint256);

    /// @notice The model registry jobs are priced from.
    function modelRegistry() external view returns (address);

    /// @notice The worker registry that holds stakes and slashes them.
    function workerRegistry() external view returns (address);
}
