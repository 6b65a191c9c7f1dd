// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {IJobMarket} from "../interfaces/IJobMarket.sol";
import {IJobMarketAdmin} from "../interfaces/IJobMarketAdmin.sol";
import {IMarketGovernor} from "../interfaces/IMarketGovernor.sol";
import {IPricing} from "../interfaces/IPricing.sol";
import {IVerifier} from "../interfaces/IVerifier.sol";
import {MarketBounds} from "../libraries/MarketBounds.sol";

/// @title MarketGovernor
/// @notice The admin of the markets that name it; see {IMarketGovernor}.
/// Caveats: the owner is meant to be the {InferchainTimelock}; ownership moves in two steps,
/// so only a scheduled operation can hand it over. Each call names its market, so one
/// governor (and one timelock) serves several market versions. It holds no money: fees are
/// credited to its account inside each market and leave only through {withdrawFees}.
contract MarketGovernor is IMarketGovernor, Ownable2Step {
    address private _guardian;

    /// @param owner_ The timelock.
    /// @param guardian_ Who may stop new jobs at once (address(0): nobody but the owner).
    constructor(address owner_, address guardian_) Ownable(owner_) {
        _setGuardian(guardian_);
    }

    /// @dev Brakes: the owner or the guardian.
    modifier onlyOwnerOrGuardian() {
        _checkOwnerOrGuardian();
        _;
    }

    /// @inheritdoc IMarketGovernor
    function setConfig(IJobMarketAdmin market, IJobMarketAdmin.Config calldata config)
        external
        onlyOwner
    {
        MarketBounds.checkConfig(config);
        market.applyConfig(config);
    }

    /// @inheritdoc IMarketGovernor
    function registerMode(IJobMarketAdmin market, uint8 id, IVerifier verifier) external onlyOwner {
        if (address(verifier) == address(0)) revert MarketGovernorZeroAddress();
        address current = address(market.modeOf(id).module);
        if (current != address(0)) revert MarketGovernorModeTaken(id, current);
        (uint32 challengeWindow, uint32 arbitrationWindow) = MarketBounds.windowsOf(verifier);
        market.registerMode(id, verifier, challengeWindow, arbitrationWindow, MarketBounds.hooksOf(verifier));
    }

    /// @inheritdoc IMarketGovernor
    function registerPricing(IJobMarketAdmin market, uint8 id, IPricing pricing) external onlyOwner {
        if (address(pricing) == address(0)) revert MarketGovernorZeroAddress();
        market.registerPricing(id, pricing);
    }

    /// @inheritdoc IMarketGovernor
    function setPricingEnabled(IJobMarketAdmin market, uint8 id, bool enabled) external {
        _checkBrake(enabled);
        market.setPricingEnabled(id, enabled);
    }

    /// @inheritdoc IMarketGovernor
    function setModeEnabled(IJobMarketAdmin market, uint8 id, bool enabled) external {
        _checkBrake(enabled);
        market.setModeEnabled(id, enabled);
    }

    /// @inheritdoc IMarketGovernor
    function setTokenAllowed(IJobMarketAdmin market, address token, bool allowed) external {
        _checkBrake(allowed);
        market.setTokenAllowed(token, allowed);
    }

    /// @inheritdoc IMarketGovernor
    function pause(IJobMarketAdmin market) external onlyOwnerOrGuardian {
        market.setPaused(true);
    }

    /// @inheritdoc IMarketGovernor
    function unpause(IJobMarketAdmin market) external onlyOwner {
        market.setPaused(false);
    }

    /// @inheritdoc IMarketGovernor
    function setGuardian(address guardian_) external onlyOwner {
        _setGuardian(guardian_);
    }

    /// @inheritdoc IMarketGovernor
    function withdrawFees(IJobMarketAdmin market, address token, address to, uint256 amount)
        external
        onlyOwner
    {
        if (to == address(0)) revert MarketGovernorZeroAddress();
        IJobMarket(address(market)).withdraw(token, to, amount);
        emit FeesWithdrawn(address(market), token, to, amount);
    }

    /// @inheritdoc IMarketGovernor
    function guardian() external view returns (address) {
        return _guardian;
    }

    function _setGuardian(address guardian_) private {
        address previous = _guardian;
        _guardian = guardian_;
        emit GuardianSet(previous, guardian_);
    }

    /// @dev Turning something on is the owner's; turning it off, the owner's or the guardian's.
    function _checkBrake(bool on) private view {
        if (on) _checkOwner();
        else _checkOwnerOrGuardian();
    }

    function _checkOwnerOrGuardian() private view {
        if (msg.sender != owner() && msg.sender != _guardian) revert MarketGovernorNotGuardian(msg.sender);
    }
}
