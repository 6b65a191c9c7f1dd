// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IVenue
/// @notice What the worker registry asks a venue (a market, a verification module) a worker
/// allocated stake to: how much of that allocation is locked by work in progress. The
/// registry refuses to deallocate below it.
interface IVenue {
    /// @notice Collateral of `token` that `worker` has locked in this venue now.
    function lockedOf(address worker, address token) external view returns (uint256);
}
