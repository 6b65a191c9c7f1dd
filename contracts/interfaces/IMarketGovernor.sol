// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IJobMarketAdmin} from "./IJobMarketAdmin.sol";
import {IPricing} from "./IPricing.sol";
import {IVerifier} from "./IVerifier.sol";

/// @title IMarketGovernor
/// @notice The one admin of every market version it is named in. Its owner is the
/// {InferchainTimelock}, so each owner action waits the timelock's delay in public; its
/// guardian can only stop new jobs, at once. Every value it sends is bounded
/// ({MarketBounds}). Fees are credited to its own account in each market, and only the owner
/// moves them out.
///
/// | who            | can                                                                    |
/// |----------------|------------------------------------------------------------------------|
/// | owner          | config; register a mode or a pricing mode once per id; enable modes,   |
/// |                | pricing modes and tokens; unpause; set the guardian; withdraw fees     |
/// | owner/guardian | pause; disable a mode, a pricing mode or a token (new jobs only)       |
interface IMarketGovernor {
    /// @notice Thrown when a value is outside its bounds [`min`, `max`].
    error MarketGovernorParameterOutOfBounds(uint256 value, uint256 min, uint256 max);
    /// @notice Thrown when `caller`, neither owner nor guardian, pulls a brake.
    error MarketGovernorNotGuardian(address caller);
    /// @notice Thrown when mode `id` of a market already has a module.
    error MarketGovernorModeTaken(uint8 id, address module);
    /// @notice Thrown when a module or a recipient is address(0).
    error MarketGovernorZeroAddress();

    /// @notice Emitted when the guardian changed (address(0): none).
    event GuardianSet(address indexed previous, address indexed guardian);
    /// @notice Emitted when the owner took `amount` of fees in `token` out of `market` to `to`.
    event FeesWithdrawn(address indexed market, address indexed token, address to, uint256 amount);

    /// @notice Owner only: bounded config for `market`'s new jobs and disputes.
    /// Requirements: fee 0..1,000 bps; dispute bond 500..5,000 bps.
    /// Emits {IJobMarketAdmin-ConfigUpdated} in the market.
    function setConfig(IJobMarketAdmin market, IJobMarketAdmin.Config calldata config) external;

    /// @notice Owner only: give mode `id` of `market` the module `verifier` for good (it
    /// starts disabled). Reads the module's windows and hook flags.
    /// Requirements: `id` free; challenge window 10 min..7 days; arbitration window 1..14 days;
    /// hooks within {VerifierHooks-ALL}.
    /// Emits {IJobMarketAdmin-ModeRegistered} in the market.
    function registerMode(IJobMarketAdmin market, uint8 id, IVerifier verifier) external;

    /// @notice Enabling: owner only. Disabling: owner or guardian.
    /// Emits {IJobMarketAdmin-ModeEnabled} in the market.
    function setModeEnabled(IJobMarketAdmin market, uint8 id, bool enabled) external;

    /// @notice Owner only: give pricing id `id` (nonzero) of `market` the module `pricing` for
    /// good (it starts disabled). Emits {IJobMarketAdmin-PricingRegistered} in the market.
    function registerPricing(IJobMarketAdmin market, uint8 id, IPricing pricing) external;

    /// @notice Enabling: owner only. Disabling: owner or guardian.
    /// Emits {IJobMarketAdmin-PricingEnabled} in the market.
    function setPricingEnabled(IJobMarketAdmin market, uint8 id, bool enabled) external;

    /// @notice Allowing: owner only. Refusing: owner or guardian.
    /// Emits {IJobMarketAdmin-TokenAllowed} in the market.
    function setTokenAllowed(IJobMarketAdmin market, address token, bool allowed) external;

    /// @notice Owner or guardian: stop new jobs in `market`. Emits {IJobMarketAdmin-Paused}.
    function pause(IJobMarketAdmin market) external;

    /// @notice Owner only: allow new jobs in `market` again. Emits {IJobMarketAdmin-Paused}.
    function unpause(IJobMarketAdmin market) external;

    /// @notice Owner only: name the guardian (address(0): none). Emits {GuardianSet}.
    function setGuardian(address guardian) external;

    /// @notice Owner only: send `amount` of the fees credited to this governor in `market`
    /// to `to`, through the market's `withdraw`. Emits {FeesWithdrawn}.
    function withdrawFees(IJobMarketAdmin market, address token, address to, uint256 amount) external;

    /// @notice Who may pull the brakes besides the owner.
    function guardian() external view returns (address);
}
