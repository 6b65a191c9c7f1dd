// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IJobMarket} from "./interfaces/IJobMarket.sol";
import {IModelRegistry} from "./interfaces/IModelRegistry.sol";
import {IWorkerRegistry} from "./interfaces/IWorkerRegistry.sol";
import {Cid} from "./libraries/Cid.sol";
import {TokenTransfer} from "./libraries/TokenTransfer.sol";

/// @title WorkerRegistry
/// @notice Worker stakes, served models and two-step exits.
/// Caveats: the stake token (ETH or one ERC-20) is fixed at deployment. The owner tunes the
/// minimum stake, the unbonding delay and the slash size within constant bounds, and binds
/// the market once; it can never move a stake. Only that market can slash, by at most
/// `slashAmount()` per failed job.
contract WorkerRegistry is IWorkerRegistry, Ownable2Step, ReentrancyGuardTransient {
    /// @notice Most model ids one call may add or remove.
    uint256 public constant MAX_MODELS_PER_CALL = 64;
    uint40 public constant MIN_UNBONDING_DELAY = 1 hours;
    uint40 public constant MAX_UNBONDING_DELAY = 30 days;
    /// @notice Highest slash per failed job, in basis points of the minimum stake.
    uint16 public constant MAX_SLASH_BPS = 10_000;
    /// @notice Highest minimum stake the owner may require.
    uint96 public constant MAX_MIN_STAKE = 1e27;

    /// @dev Read together on every market call: who may call, and the claim threshold.
    struct Binding {
        address market;
        uint96 minStake;
    }

    struct Policy {
        uint40 unbondingDelay;
        uint16 slashBps;
    }

    address private immutable _STAKE_TOKEN;
    IModelRegistry private immutable _MODELS;

    Binding private _binding;
    Policy private _policy;
    uint256 private _totalStaked;
    mapping(address account => Worker) private _workers;
    mapping(address account => bytes32) private _metadata;
    /// @dev Keyed by registration generation, so a worker that left and came back starts with
    /// no models instead of the stale list of its previous life.
    mapping(address account => mapping(uint32 generation => mapping(uint32 modelId => bool))) private
        _serves;

    modifier onlyMarket() {
        if (msg.sender != _binding.market) revert WorkerRegistryNotMarket(msg.sender);
        _;
    }

    constructor(
        address initialOwner,
        address stakeToken_,
        IModelRegistry models,
        uint96 minStake_,
        uint40 unbondingDelay_,
        uint16 slashBps_
    ) Ownable(initialOwner) {
        _STAKE_TOKEN = stakeToken_;
        _MODELS = models;
        setMinStake(minStake_);
        setUnbondingDelay(unbondingDelay_);
        setSlashBps(slashBps_);
    }

    // --- worker actions -------------------------------------------------------------------

    /// @inheritdoc IWorkerRegistry
    function register(uint256 stake, bytes calldata metadataCid, uint32[] calldata modelIds)
        external
        payable
        nonReentrant
    {
        Worker storage w = _workers[msg.sender];
        if (w.registered) revert WorkerRegistryAlreadyRegistered(msg.sender);
        uint256 minimum = _binding.minStake;
        if (stake < minimum) revert WorkerRegistryStakeBelowMinimum(stake, minimum);
        (, bytes32 digest) = Cid.parse(metadataCid);
        w.registered = true;
        w.stake = _toStake(stake);
        _metadata[msg.sender] = digest;
        emit WorkerRegistered(msg.sender, stake, metadataCid);
        _setServed(modelIds, true);
        _receive(stake);
    }

    /// @inheritdoc IWorkerRegistry
    function addStake(uint256 amount) external payable nonReentrant {
        if (amount == 0) revert WorkerRegistryZeroAmount();
        Worker storage w = _registered(msg.sender);
        uint256 stake = w.stake + amount;
        w.stake = _toStake(stake);
        emit StakeAdded(msg.sender, amount, stake);
        _receive(amount);
    }

    /// @inheritdoc IWorkerRegistry
    function updateMetadata(bytes calldata metadataCid) external {
        _registered(msg.sender);
        (, bytes32 digest) = Cid.parse(metadataCid);
        _metadata[msg.sender] = digest;
        emit WorkerMetadataUpdated(msg.sender, metadataCid);
    }

    /// @inheritdoc IWorkerRegistry
    function addModels(uint32[] calldata modelIds) external {
        _registered(msg.sender);
        _setServed(modelIds, true);
    }

    /// @inheritdoc IWorkerRegistry
    function removeModels(uint32[] calldata modelIds) external {
        _registered(msg.sender);
        _setServed(modelIds, false);
    }

    /// @inheritdoc IWorkerRegistry
    function requestExit() external {
        Worker storage w = _registered(msg.sender);
        if (w.unbondingEnds != 0) revert WorkerRegistryExiting(msg.sender);
        uint40 ends = uint40(block.timestamp) + _policy.unbondingDelay;
        w.unbondingEnds = ends;
        emit ExitRequested(msg.sender, ends);
    }

    /// @inheritdoc IWorkerRegistry
    function cancelExit() external {
        Worker storage w = _registered(msg.sender);
        if (w.unbondingEnds == 0) revert WorkerRegistryNotExiting(msg.sender);
        w.unbondingEnds = 0;
        emit ExitCancelled(msg.sender);
    }

    /// @inheritdoc IWorkerRegistry
    function withdrawStake() external nonReentrant {
        Worker memory w = _workers[msg.sender];
        if (!w.registered) revert WorkerRegistryNotRegistered(msg.sender);
        if (w.unbondingEnds == 0) revert WorkerRegistryNotExiting(msg.sender);
        if (block.timestamp < w.unbondingEnds) {
            revert WorkerRegistryUnbonding(msg.sender, w.unbondingEnds);
        }
        uint256 held = _activeJobs(msg.sender, w.claims);
        if (held != 0) revert WorkerRegistryActiveJobs(msg.sender, held);
        // Keep the claim count (the market's settled count for this address keeps growing too)
        // and bump the generation: the served-model flags of this life become unreachable.
        _workers[msg.sender] = Worker({
            stake: 0,
            claims: w.claims,
            unbondingEnds: 0,
            registered: false,
            generation: w.generation + 1
        });
        delete _metadata[msg.sender];
        _totalStaked -= w.stake;
        emit StakeWithdrawn(msg.sender, w.stake);
        TokenTransfer.push(_STAKE_TOKEN, msg.sender, w.stake);
    }

    // --- market hooks ---------------------------------------------------------------------

    /// @inheritdoc IWorkerRegistry
    function acquire(address account, uint32 modelId, uint32 count) external {
        Binding memory b = _binding;
        if (msg.sender != b.market) revert WorkerRegistryNotMarket(msg.sender);
        Worker storage w = _workers[account];
        Worker memory current = w;
        if (!current.registered) revert WorkerRegistryNotRegistered(account);
        if (current.unbondingEnds != 0) revert WorkerRegistryExiting(account);
        if (current.stake < b.minStake) {
            revert WorkerRegistryStakeBelowMinimum(current.stake, b.minStake);
        }
        if (!_serves[account][current.generation][modelId]) {
            revert WorkerRegistryModelNotServed(account, modelId);
        }
        w.claims = current.claims + count;
    }

    /// @inheritdoc IWorkerRegistry
    function slash(address account) external onlyMarket returns (uint256 slashed) {
        Worker storage w = _workers[account];
        uint256 stake = w.stake;
        slashed = slashAmount();
        if (slashed > stake) slashed = stake;
        if (slashed == 0) return 0;
        // Safe: slashed <= stake, and stake <= _totalStaked.
        unchecked {
            w.stake = uint96(stake - slashed);
            _totalStaked -= slashed;
        }
        emit WorkerSlashed(account, slashed, stake - slashed);
        TokenTransfer.push(_STAKE_TOKEN, msg.sender, slashed);
    }

    // --- admin ----------------------------------------------------------------------------

    /// @notice Bind the market that may count claims and slash workers; once only.
    function bindMarket(address market_) external onlyOwner {
        if (_binding.market != address(0) || market_ == address(0)) {
            revert WorkerRegistryMarketAlreadyBound(_binding.market);
        }
        _binding.market = market_;
        emit MarketBound(market_);
    }

    /// @notice Set the minimum stake to claim (at most MAX_MIN_STAKE). Emits {MinStakeUpdated}.
    function setMinStake(uint96 minStake_) public onlyOwner {
        if (minStake_ == 0 || minStake_ > MAX_MIN_STAKE) {
            revert WorkerRegistryParameterOutOfBounds(minStake_, 1, MAX_MIN_STAKE);
        }
        _binding.minStake = minStake_;
        emit MinStakeUpdated(minStake_);
    }

    /// @notice Set the unbonding delay for exits requested from now on.
    /// Emits {UnbondingDelayUpdated}.
    function setUnbondingDelay(uint40 delay) public onlyOwner {
        if (delay < MIN_UNBONDING_DELAY || delay > MAX_UNBONDING_DELAY) {
            revert WorkerRegistryParameterOutOfBounds(delay, MIN_UNBONDING_DELAY, MAX_UNBONDING_DELAY);
        }
        _policy.unbondingDelay = delay;
        emit UnbondingDelayUpdated(delay);
    }

    /// @notice Set the slash per failed job, in basis points of the minimum stake.
    /// Emits {SlashBpsUpdated}.
    function setSlashBps(uint16 bps) public onlyOwner {
        if (bps > MAX_SLASH_BPS) revert WorkerRegistryParameterOutOfBounds(bps, 0, MAX_SLASH_BPS);
        _policy.slashBps = bps;
        emit SlashBpsUpdated(bps);
    }

    // --- views ----------------------------------------------------------------------------

    /// @inheritdoc IWorkerRegistry
    function worker(address account) external view returns (Worker memory) {
        return _workers[account];
    }

    /// @inheritdoc IWorkerRegistry
    function activeJobs(address account) external view returns (uint256) {
        return _activeJobs(account, _workers[account].claims);
    }

    /// @inheritdoc IWorkerRegistry
    function metadataDigest(address account) external view returns (bytes32) {
        return _metadata[account];
    }

    /// @inheritdoc IWorkerRegistry
    function serves(address account, uint32 modelId) external view returns (bool) {
        Worker storage w = _workers[account];
        return w.registered && _serves[account][w.generation][modelId];
    }

    /// @inheritdoc IWorkerRegistry
    function canClaim(address account, uint32 modelId) external view returns (bool) {
        Worker memory w = _workers[account];
        return w.registered && w.unbondingEnds == 0 && w.stake >= _binding.minStake
            && _serves[account][w.generation][modelId];
    }

    /// @inheritdoc IWorkerRegistry
    function slashAmount() public view returns (uint256) {
        return uint256(_binding.minStake) * _policy.slashBps / 10_000;
    }

    /// @inheritdoc IWorkerRegistry
    function stakeToken() external view returns (address) {
        return _STAKE_TOKEN;
    }

    /// @inheritdoc IWorkerRegistry
    function market() external view returns (address) {
        return _binding.market;
    }

    /// @inheritdoc IWorkerRegistry
    function minStake() external view returns (uint256) {
        return _binding.minStake;
    }

    /// @inheritdoc IWorkerRegistry
    function unbondingDelay() external view returns (uint40) {
        return _policy.unbondingDelay;
    }

    /// @inheritdoc IWorkerRegistry
    function slashBps() external view returns (uint16) {
        return _policy.slashBps;
    }

    /// @inheritdoc IWorkerRegistry
    function totalStaked() external view returns (uint256) {
        return _totalStaked;
    }

    // --- internal -------------------------------------------------------------------------

    function _activeJobs(address account, uint256 claims) private view returns (uint256) {
        if (claims == 0) return 0;
        return claims - IJobMarket(_binding.market).settledJobs(account);
    }

    function _registered(address account) private view returns (Worker storage w) {
        w = _workers[account];
        if (!w.registered) revert WorkerRegistryNotRegistered(account);
    }

    function _setServed(uint32[] calldata modelIds, bool served) private {
        uint256 count = modelIds.length;
        mapping(uint32 => bool) storage flags = _serves[msg.sender][_workers[msg.sender].generation];
        if (count > MAX_MODELS_PER_CALL) {
            revert WorkerRegistryTooManyModels(count, MAX_MODELS_PER_CALL);
        }
        for (uint256 i; i < count; ++i) {
            uint32 modelId = modelIds[i];
            if (served) {
                if (!_MODELS.exists(modelId)) revert WorkerRegistryUnknownModel(modelId);
                flags[modelId] = true;
                emit ModelServed(msg.sender, modelId);
            } else {
                flags[modelId] = false;
                emit ModelUnserved(msg.sender, modelId);
            }
        }
    }

    /// @dev The one way stake comes in: ETH must match `amount` exactly; ERC-20s are measured.
    function _receive(uint256 amount) private {
        _totalStaked += amount;
        if (_STAKE_TOKEN == address(0)) {
            if (msg.value != amount) revert WorkerRegistryValueMismatch(amount, msg.value);
        } else {
            if (msg.value != 0) revert WorkerRegistryValueMismatch(0, msg.value);
            TokenTransfer.pull(_STAKE_TOKEN, msg.sender, amount);
        }
    }

    function _toStake(uint256 amount) private pure returns (uint96) {
        if (amount > type(uint96).max) {
            revert WorkerRegistryParameterOutOfBounds(amount, 0, type(uint96).max);
        }
        return uint96(amount);
    }
}
