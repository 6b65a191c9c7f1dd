// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IJobMarketAdmin} from "../interfaces/IJobMarketAdmin.sol";
import {IMarketGovernor} from "../interfaces/IMarketGovernor.sol";
import {IVerifier, VerifierHooks} from "../interfaces/IVerifier.sol";

/// @title MarketBounds
/// @notice The bounds of every governed market value (docs/design/contracts-v2.md §2.0), used
/// by {MarketGovernor} on each change and by the market's constructor on its initial values.
/// Internal functions only: the market calls them from its constructor, so they cost it no
/// runtime bytes.
library MarketBounds {
    uint16 internal constant MAX_FEE_BPS = 1_000;
    uint16 internal constant MIN_COLLATERAL_BPS = 5_000;
    uint16 internal constant MAX_COLLATERAL_BPS = 30_000;
    uint16 internal constant MIN_DISPUTE_BOND_BPS = 500;
    uint16 internal constant MAX_DISPUTE_BOND_BPS = 5_000;
    uint32 internal constant MIN_CHALLENGE_WINDOW = 10 minutes;
    uint32 internal constant MAX_CHALLENGE_WINDOW = 7 days;
    uint32 internal constant MIN_ARBITRATION_WINDOW = 1 days;
    uint32 internal constant MAX_ARBITRATION_WINDOW = 14 days;

    /// @notice Reverts unless the fee, the collateral and the dispute bond are within bounds.
    function checkConfig(IJobMarketAdmin.Config memory config) internal pure {
        check(config.feeBps, 0, MAX_FEE_BPS);
        check(config.collateralBps, MIN_COLLATERAL_BPS, MAX_COLLATERAL_BPS);
        check(config.disputeBondBps, MIN_DISPUTE_BOND_BPS, MAX_DISPUTE_BOND_BPS);
    }

    /// @notice The module's windows, read once; reverts unless both are within bounds.
    function windowsOf(IVerifier module)
        internal
        view
        returns (uint32 challengeWindow, uint32 arbitrationWindow)
    {
        challengeWindow = module.challengeWindow();
        arbitrationWindow = module.arbitrationWindow();
        check(challengeWindow, MIN_CHALLENGE_WINDOW, MAX_CHALLENGE_WINDOW);
        check(arbitrationWindow, MIN_ARBITRATION_WINDOW, MAX_ARBITRATION_WINDOW);
    }

    /// @notice The module's hook flags, read once; reverts on an unknown flag.
    function hooksOf(IVerifier module) internal view returns (uint8 hooks) {
        hooks = module.hooks();
        check(hooks, 0, VerifierHooks.ALL);
    }

    /// @notice Reverts with {IMarketGovernor-MarketGovernorParameterOutOfBounds} unless
    /// `min <= value <= max`.
    function check(uint256 value, uint256 min, uint256 max) internal pure {
        if (value < min || value > max) {
            revert IMarketGovernor.MarketGovernorParameterOutOfBounds(value, min, max);
        }
    }
}
