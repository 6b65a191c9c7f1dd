// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IJobMarket} from "./IJobMarket.sol";

/// @title IJobRouter
/// @notice Signed requests, disputes and deposits for every market version: one EIP-712
/// domain (`Inferchain JobRouter`, version 2), one nonce bitmap per account, one set of
/// session signers. Ownerless; it never holds money.
///
/// Caveats a caller must know:
/// - A signature names its market, so a relayer cannot redirect it to another one.
/// - A session signer spends at most the total its wallet granted ({increaseSignerCap}),
///   from the wallet's deposit, until its expiry; lowering ({decreaseSignerCap}) subtracts
///   from what is left, so it cannot be front-run into a larger total. A session signer may
///   sign requests and disputes, never deposits.
/// - Tokens move only from an account that signed a `Deposit` for exactly that amount, or
///   from the caller itself: a permit or a standing allowance alone moves nothing.
interface IJobRouter {
    /// @notice A job request signed by `requester` or its session signer, for `market`.
    struct SignedJobRequest {
        address market;
        IJobMarket.JobRequest request;
        address requester;
        uint256 nonce;
        uint256 expiry;
        bytes signature;
    }

    /// @notice A dispute of `jobId` on `market`, signed by the job's requester or its session
    /// signer; the bond comes from the requester's deposit.
    struct SignedDispute {
        address market;
        uint256 jobId;
        IJobMarket.Job job;
        uint256 nonce;
        uint256 expiry;
        bytes signature;
    }

    /// @notice A deposit of exactly `amount` of `token` from `owner` into `market`, signed by
    /// `owner` itself.
    struct SignedDeposit {
        address market;
        address owner;
        address token;
        uint256 amount;
        uint256 nonce;
        uint256 expiry;
        bytes signature;
    }

    /// @notice An EIP-2612 permit for the market as spender; tried, never required (a
    /// front-runner may have used it already, and then the allowance exists).
    struct Permit {
        uint256 deadline;
        uint8 v;
        bytes32 r;
        bytes32 s;
    }

    /// @notice What a session signer may still spend of one token, and until when.
    struct Session {
        uint96 remaining;
        uint40 expiry;
    }

    // --- errors -------------------------------------------------------------------------

    /// @notice Thrown when a signed message is used after its expiry.
    error JobRouterSignatureExpired(uint256 expiry);
    /// @notice Thrown when a nonce was used or invalidated.
    error JobRouterNonceUsed(address account, uint256 nonce);
    /// @notice Thrown when a signature comes neither from `account` (EOA or ERC-1271) nor,
    /// where allowed, from one of its session signers.
    error JobRouterInvalidSignature(address account);
    /// @notice Thrown when a session signer's authorisation is used after its expiry.
    error JobRouterSessionExpired(address requester, address signer, uint40 expiry);
    /// @notice Thrown when a session signer would spend more than it has left.
    error JobRouterSessionCapExceeded(address requester, address signer, uint256 remaining, uint256 needed);
    /// @notice Thrown when changing or revoking a session that does not exist.
    error JobRouterSignerNotAuthorized(address requester, address signer, address token);
    /// @notice Thrown when a session expiry is not in (now, now + MAX_SESSION_TTL].
    error JobRouterInvalidExpiry(uint256 expiry, uint256 min, uint256 max);
    /// @notice Thrown when a cap increase would overflow what a session can hold.
    error JobRouterCapOverflow(uint256 remaining, uint256 added);
    /// @notice Thrown when an address parameter is zero.
    error JobRouterZeroAddress();
    /// @notice Thrown when an amount is zero.
    error JobRouterZeroAmount();
    /// @notice Thrown when a batch is empty or longer than MAX_BATCH.
    error JobRouterInvalidBatchLength(uint256 length, uint256 max);
    /// @notice Thrown when a permit-paid job names a model priced in ETH.
    error JobRouterNotAToken(uint32 modelId);

    // --- events -------------------------------------------------------------------------

    /// @notice Emitted when `requester` raised or lowered what `signer` may still spend of
    /// `token` (`remaining`), until `expiry`.
    event SignerCapChanged(
        address indexed requester, address indexed signer, address indexed token, uint96 remaining, uint40 expiry
    );
    /// @notice Emitted when session signer `signer` spent from its cap for `jobId` (a job's
    /// price, or a dispute's bond); `remaining` is what it may still spend.
    event SignerSpent(
        address indexed requester, address indexed signer, address indexed token, uint256 jobId, uint96 remaining
    );
    /// @notice Emitted when `requester` withdrew `signer`'s authorisation for `token`.
    event SignerRevoked(address indexed requester, address indexed signer, address indexed token);
    /// @notice Emitted when `account` burned `nonce` without using it.
    event NonceInvalidated(address indexed account, uint256 nonce);
    /// @notice Emitted when {createJobsFor} skipped `requester`'s request `nonce`: `reason` is
    /// the selector of the error {createJobFor} reverts with for it (a router, market or
    /// registry error). The nonce stays unused unless another item or call used it.
    event RequestSkipped(address indexed requester, uint256 nonce, bytes4 reason);

    // --- signed actions -----------------------------------------------------------------

    /// @notice Creates a job from a signed request, paid from the requester's deposit in its
    /// market. Requirements: unexpired, unused nonce, signature by the requester (EOA or
    /// ERC-1271) or by its session signer for the model's token, unexpired, with at least
    /// `maxPrice + callbackFee` left; then the market's checks. Emits {SignerSpent} for a
    /// session signer.
    function createJobFor(SignedJobRequest calldata signed) external returns (uint256 jobId);

    /// @notice {createJobFor} for up to MAX_BATCH requests; the market is called once per run
    /// of requests naming the same market. A request that fails a check of the router or of
    /// its market (expired, bad signature, nonce used, session short or expired, price above
    /// max, model inactive, token disallowed, deposit short...) is skipped: {RequestSkipped},
    /// job id 0, its nonce and session cap untouched, the others created (issue 12, attack 7).
    /// Should a market refuse a run, each of its requests is tried alone, at about twice the
    /// gas. Requirements: 1..MAX_BATCH requests; a named market not paused, and enough gas (a
    /// refusal without a reason reverts the batch).
    /// @return jobIds The new job ids, in order; 0 for a skipped request.
    function createJobsFor(SignedJobRequest[] calldata signed) external returns (uint256[] memory jobIds);

    /// @notice Creates a job for the caller in `market`, paid with the model's ERC-20: tries
    /// `permit` (for `request.maxPrice`), deposits the price from the caller, opens the job.
    function createJobWithPermit(address market, IJobMarket.JobRequest calldata request, Permit calldata permit)
        external
        returns (uint256 jobId);

    /// @notice Deposits for `signed.owner`, who signed a `Deposit` of exactly that amount
    /// (never a session signer); tries `permit` first. Emits {IJobMarket-Deposited}.
    function depositWithSig(SignedDeposit calldata signed, Permit calldata permit) external;

    /// @notice Disputes a job for its requester, who (or whose session signer) signed it; the
    /// bond comes from the requester's deposit. Emits {IJobMarket-JobDisputed}.
    function disputeFor(SignedDispute calldata signed) external returns (uint96 bond);

    // --- sessions and nonces ------------------------------------------------------------

    /// @notice Lets `signer` spend `added` more of `token` from the caller's deposits, until
    /// `expiry` (which replaces the previous one). Requirements: `signer` non-zero, `added`
    /// non-zero, now < expiry <= now + MAX_SESSION_TTL. Emits {SignerCapChanged}.
    function increaseSignerCap(address signer, address token, uint96 added, uint40 expiry) external;

    /// @notice Lowers what `signer` may still spend of `token` by `removed`, stopping at 0.
    /// Requirements: the session exists. Emits {SignerCapChanged}.
    function decreaseSignerCap(address signer, address token, uint96 removed) external;

    /// @notice Withdraws `signer`'s authorisation for `token` at once. Requirements: it exists
    /// (even expired). Emits {SignerRevoked}.
    function revokeSigner(address signer, address token) external;

    /// @notice Burns `nonce` of the caller so that nothing signed with it can be used.
    /// Emits {NonceInvalidated}.
    function invalidateNonce(uint256 nonce) external;

    // --- views --------------------------------------------------------------------------

    /// @notice What `signer` may still spend of `token` for `requester`, and until when.
    function sessionOf(address requester, address signer, address token)
        external
        view
        returns (uint96 remaining, uint40 expiry);

    /// @notice Whether `account` used or invalidated `nonce`.
    function nonceUsed(address account, uint256 nonce) external view returns (bool);

    /// @notice EIP-712 digest of a signed request (its signature field is ignored).
    function requestDigest(SignedJobRequest calldata signed) external view returns (bytes32);

    /// @notice EIP-712 digest of a signed dispute (its signature field is ignored).
    function disputeDigest(SignedDispute calldata signed) external view returns (bytes32);

    /// @notice EIP-712 digest of a signed deposit (its signature field is ignored).
    function depositDigest(SignedDeposit calldata signed) external view returns (bytes32);
}
