// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IJobMarket} from "./IJobMarket.sol";

/// @title IVerifier
/// @notice A verification mode: it fixes the windows of its jobs and decides their disputes.
/// A market registers one module per mode id, once and for good; registration reads the two
/// windows (the governor bounds them), so they must never change (make them immutable).
/// The market asks for a verdict (a static call) when anyone calls
/// {IJobMarket-resolveDispute}; if none comes before the arbitration deadline, the result
/// stands and the worker is paid ({IJobMarket-expireDispute}).
/// Modes plug in behind these functions: an owner's ruling today ({ManualArbiter}),
/// re-execution by other workers or a ZK proof check later (hooks come with issue 14).
interface IVerifier {
    /// @notice The decision on a dispute.
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

    /// @notice The verdict on `jobId` of the calling market, given its full job tuple.
    function verdict(uint256 jobId, IJobMarket.Job calldata job) external view returns (Verdict);
}
