// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IJobMarket} from "./IJobMarket.sol";
import {IJobRouter} from "./IJobRouter.sol";

/// @title IJobMarketRouter
/// @notice The market's entry points for its immutable {IJobRouter}: the router verified a
/// signature (or passes its own msg.sender), so the market acts for that account without
/// checking it again. Every other caller is refused with {JobMarketNotRouter}.
interface IJobMarketRouter {
    /// @notice Thrown when anyone but the market's router calls a router-only entry point.
    error JobMarketNotRouter(address caller);

    /// @notice Opens one job per item, each paid from its requester's deposit. The router
    /// checked each item's signature; the market reads only `requester` and `request` (it
    /// takes the router's own type so that a batch is forwarded without re-encoding).
    /// Requirements: 1..MAX_BATCH items; each request as for {IJobMarket-createJob}; each
    /// requester's balance covers its price (else {IJobMarket-JobMarketInsufficientBalance}).
    /// Emits {IJobMarket-JobCreated} per job.
    /// @return jobIds The new job ids, in order.
    /// @return spent What each job took from its requester's deposit (its price).
    function openFor(IJobRouter.SignedJobRequest[] calldata items)
        external
        returns (uint256[] memory jobIds, uint256[] memory spent);

    /// @notice Disputes `jobId` for `requester`, the bond taken from its deposit.
    /// Requirements: as {IJobMarket-dispute}, with `requester` in place of msg.sender; the
    /// requester's balance covers the bond. Emits {IJobMarket-JobDisputed}.
    /// @return bond What the dispute took from the requester's deposit.
    function disputeFor(uint256 jobId, IJobMarket.Job calldata job, address requester)
        external
        returns (uint96 bond);

    /// @notice Pulls `amount` of allow-listed ERC-20 `token` from `owner` (through its
    /// allowance to the market) into `owner`'s balance. The router calls it only for an owner
    /// that signed a `Deposit` of exactly this amount, or for its own msg.sender.
    /// Emits {IJobMarket-Deposited}.
    function depositFor(address owner, address token, uint256 amount) external;

    /// @notice The router whose calls the entry points above accept.
    function router() external view returns (address);
}
