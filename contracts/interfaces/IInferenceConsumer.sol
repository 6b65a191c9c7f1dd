// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IInferenceConsumer
/// @notice A contract that asked for inference and wants the result pushed to it (AI oracle).
/// The market calls it once, from {IJobMarket-deliver} (anyone's call, paid by the job's
/// callback fee), with the gas stipend the job named. Payment happened before: a revert or
/// running out of gas here changes nothing else. The output CID is also in
/// {IJobMarket-ResultSubmitted}.
interface IInferenceConsumer {
    /// @notice Called by the market with the paid job's output CID (CIDv1, sha2-256).
    function onInferenceResult(uint256 jobId, bytes calldata outputCid) external;
}
