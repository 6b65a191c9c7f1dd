// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IPricing} from "./IPricing.sol";
import {IVerifier} from "./IVerifier.sol";

/// @title IJobMarketAdmin
/// @notice The market's settings and the entry points of its one admin, the immutable
/// governor ({IMarketGovernor}, owned by a timelock). The market applies what the governor
/// sends without checking bounds: the governor checks them, and the constructor checks the
/// initial values with the same library. None of these entry points moves escrow, bonds or
/// balances, and none changes a created job: every term a job uses is fixed at creation or
/// by its mode, and a mode's module, once registered, is never replaced.
interface IJobMarketAdmin {
    /// @notice Terms the governor sets for jobs created afterwards.
    /// @param feeBps Protocol fee, in basis points of the price, snapshotted into each job.
    /// @param collateralBps Collateral a claim locks, in basis points of the price,
    /// snapshotted into each job (`max(1, price * collateralBps / 10_000)`).
    /// @param disputeBondBps Dispute bond, in basis points of the price, snapshotted into
    /// each job.
    struct Config {
        uint16 feeBps;
        uint16 collateralBps;
        uint16 disputeBondBps;
    }

    /// @notice A verification mode: its module, fixed for good, the windows and hook flags
    /// ({VerifierHooks}) read from it at registration, and whether new jobs may choose it.
    struct Mode {
        IVerifier module;
        uint32 challengeWindow;
        uint32 arbitrationWindow;
        uint8 hooks;
        bool enabled;
    }

    /// @notice A pricing mode (id 0, flat, is built in and never stored): its module, fixed
    /// for good, and whether new jobs may choose it.
    struct Pricing {
        IPricing module;
        bool enabled;
    }

    /// @notice A mode the constructor registers and enables.
    struct ModeInit {
        uint8 id;
        IVerifier module;
    }

    /// @notice Thrown when anyone but the governor calls an admin entry point.
    error JobMarketNotGovernor(address caller);
    /// @notice Thrown when a mode id that already has a module is registered again.
    error JobMarketModeTaken(uint8 id, address module);
    /// @notice Thrown when a mode id without a module is enabled or disabled.
    error JobMarketModeUnknown(uint8 id);
    /// @notice Thrown when a pricing id that already has a module (or id 0, flat) is
    /// registered again.
    error JobMarketPricingTaken(uint8 id, address module);
    /// @notice Thrown when a pricing id without a module is enabled or disabled.
    error JobMarketPricingUnknown(uint8 id);

    /// @notice Emitted when the config changed (new jobs and new disputes only).
    event ConfigUpdated(Config config);
    /// @notice Emitted once per mode id, when its module was registered for good.
    event ModeRegistered(
        uint8 indexed id, address module, uint32 challengeWindow, uint32 arbitrationWindow, uint8 hooks
    );
    /// @notice Emitted when a mode was enabled or disabled for new jobs.
    event ModeEnabled(uint8 indexed id, bool enabled);
    /// @notice Emitted once per pricing id, when its module was registered for good.
    event PricingRegistered(uint8 indexed id, address module);
    /// @notice Emitted when a pricing mode was enabled or disabled for new jobs.
    event PricingEnabled(uint8 indexed id, bool enabled);
    /// @notice Emitted when an ERC-20 was allowed or disallowed for new jobs and deposits.
    event TokenAllowed(address indexed token, bool allowed);
    /// @notice Emitted when new jobs were stopped (`paused`) or allowed again.
    event Paused(bool paused);

    /// @notice Governor only: the terms for jobs created and disputes opened from now on.
    /// Emits {ConfigUpdated}.
    function applyConfig(Config calldata config) external;

    /// @notice Governor only: give mode `id` its module, once. The windows and hook flags
    /// are the module's, read and bounded by the governor; the market calls only the hooks
    /// flagged here, for good. The mode starts disabled.
    /// Requirements: `module` nonzero ({IJobMarket-JobMarketZeroAddress}); `id` has no
    /// module yet ({JobMarketModeTaken}). Emits {ModeRegistered}.
    function registerMode(
        uint8 id,
        IVerifier module,
        uint32 challengeWindow,
        uint32 arbitrationWindow,
        uint8 hooks
    ) external;

    /// @notice Governor only: offer or withdraw a registered mode for new jobs. Jobs already
    /// created under it keep their module for disputes. Emits {ModeEnabled}.
    function setModeEnabled(uint8 id, bool enabled) external;

    /// @notice Governor only: give pricing id `id` (nonzero) its module, once. It starts
    /// disabled. Requirements: `module` nonzero; `id` nonzero and without a module
    /// ({JobMarketPricingTaken}). Emits {PricingRegistered}.
    function registerPricing(uint8 id, IPricing module) external;

    /// @notice Governor only: offer or withdraw a registered pricing mode for new jobs. Jobs
    /// already created under it keep charging through its module. Emits {PricingEnabled}.
    function setPricingEnabled(uint8 id, bool enabled) external;

    /// @notice Governor only: allow or refuse a nonzero ERC-20 for new jobs and deposits;
    /// existing escrow and balances are unaffected. Emits {TokenAllowed}.
    function setTokenAllowed(address token, bool allowed) external;

    /// @notice Governor only: stop or restart new jobs. Claims, submissions, settlement,
    /// disputes and withdrawals keep working while paused. Emits {Paused}.
    function setPaused(bool paused) external;

    /// @notice The governor: the only admin, and the account protocol fees are credited to.
    function governor() external view returns (address);

    /// @notice The current config.
    function config() external view returns (Config memory);

    /// @notice Mode `id` (module zero: not registered).
    function modeOf(uint8 id) external view returns (Mode memory);

    /// @notice Pricing mode `id` (module zero: not registered; id 0 is flat, built in).
    function pricingOf(uint8 id) external view returns (Pricing memory);

    /// @notice Whether new jobs are stopped.
    function paused() external view returns (bool);

    /// @notice Whether `token` may be used by new jobs and deposits (ETH always).
    function isTokenAllowed(address token) external view returns (bool);
}
