// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IJobMarket} from "./IJobMarket.sol";

/// @title IVerifier
/// @notice A verification mode: it fixes the windows of its jobs, may charge a verification
/// fee, may check a result when it is submitted, and decides disputes.
/// A market registers one module per mode id, once and for good; registration reads the two
/// windows (the governor bounds them) and the hook flags, so none of them may ever change
/// (make them immutable or constant). A market calls only the hooks whose flag is set, so mode 0
/// ({ManualArbiter}, flags 0) costs no call on the common path.
///
/// | flag          | called at  | effect                                                          |
/// |---------------|------------|-----------------------------------------------------------------|
/// | `QUOTE`       | creation   | {quote} sets the job's `verifyFee`, escrowed with the price     |
/// | `ON_SUBMIT`   | submission | {onSubmit}: `WorkerWins` pays at once (no window); `Pending`    |
/// |               |            | opens the challenge window; `WorkerLoses` reverts the submission|
/// | `ON_FINALIZE` | finalize   | {verdict} decides; still `Pending` after the challenge deadline |
/// |               |            | leaves the result standing (the worker is paid)                 |
///
/// Without `ON_FINALIZE`, {verdict} is asked only when a requester disputes
/// ({IJobMarket-resolveDispute}); if none comes before the arbitration deadline the result
/// stands ({IJobMarket-expireDispute}). After submission the job's `verifyFee` is credited to
/// the module's balance in the market (before it, a cancelled or failed job refunds it).
interface IVerifier {
    /// @notice The decision on a job's result.
    enum Verdict {
        Pending,
        WorkerWins,
        WorkerLoses
    }

    /// @notice Seconds a requester has after a submission to dispute it (snapshotted into
    /// each job at creation).
    function challengeWindow() external view returns (uint32);

    /// @notice Seconds the module has after a dispute to decide it.
    function arbitrationWindow() external view returns (uint32);

    /// @notice Which hooks the market calls: a bit set of {VerifierHooks} flags.
    function hooks() external view returns (uint8);

    /// @notice The verification fee for a new job (called only with the `QUOTE` flag); it is
    /// escrowed on top of `price` and counts against the request's `maxPrice`.
    function quote(address requester, uint32 modelId, address token, uint96 price)
        external
        view
        returns (uint96 verifyFee);

    /// @notice Check a result as it is submitted (called only with the `ON_SUBMIT` flag, by the
    /// market). `job` already carries the worker and the output fields being committed;
    /// `proof` is {IJobMarket-Result.proof}.
    function onSubmit(uint256 jobId, IJobMarket.Job calldata job, bytes calldata proof)
        external
        returns (Verdict);

    /// @notice The verdict on `jobId` of the calling market, given its full job tuple.
    function verdict(uint256 jobId, IJobMarket.Job calldata job) external view returns (Verdict);
}

/// @title VerifierHooks
/// @notice The flags of {IVerifier-hooks}.
library VerifierHooks {
    uint8 internal constant QUOTE = 1;
    uint8 internal constant ON_SUBMIT = 2;
    uint8 internal constant ON_FINALIZE = 4;
    uint8 internal constant ALL = QUOTE | ON_SUBMIT | ON_FINALIZE;
}
