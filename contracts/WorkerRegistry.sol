// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IModelRegistry} from "./interfaces/IModelRegistry.sol";
import {IVenue} from "./interfaces/IVenue.sol";
import {IWorkerRegistry} from "./interfaces/IWorkerRegistry.sol";
import {Cid} from "./libraries/Cid.sol";
import {TokenTransfer} from "./libraries/TokenTransfer.sol";

/// @title WorkerRegistry
/// @notice Worker discovery, stakes per token and their allocations to venues; see
/// {IWorkerRegistry}. No owner and no parameters (contracts v2 §1.4, issue 12 attack 3): nobody
/// administers it, so nobody can move a stake but its worker and, up to the worker's
/// allocation to it, a venue's slash.
///
/// Caveat: a venue is trusted with what is allocated to it, and only that. Forced
/// deallocation (after FORCE_DELAY, longer than any v2 job lives) is the way out of a venue
/// that locks collateral for good.
contract WorkerRegistry is IWorkerRegistry, ReentrancyGuardTransient {
    /// @notice Most model ids one call may add or remove.
    uint256 public constant MAX_MODELS_PER_CALL = 64;
    /// @notice Wait between requesting and running a forced deallocation. The longest v2 job
    /// lives 30 + 7 + 7 + 14 = 58 days.
    uint40 public constant FORCE_DELAY = 60 days;

    /// @dev Discovery data of one address.
    struct Worker {
        bool registered;
        uint32 generation;
        bytes32 metadataDigest;
    }

    IModelRegistry private immutable _MODELS;

    mapping(address account => Worker) private _workers;
    /// @dev Keyed by registration generation, so a worker that left and came back starts with
    /// no models instead of the stale list of its previous life.
    mapping(address account => mapping(uint32 generation => mapping(uint32 modelId => bool))) private
        _serves;
    mapping(address account => mapping(address token => Stake)) private _stakes;
    mapping(address account => mapping(address token => mapping(address venue => Allocation))) private
        _allocations;
    mapping(address token => uint256) private _totalStaked;

    /// @param models The model registry that says which model ids exist.
    constructor(IModelRegistry models) {
        _MODELS = models;
    }

    // --- discovery --------------------------------------------------------------------------

    /// @inheritdoc IWorkerRegistry
    function register(bytes calldata metadataCid, uint32[] calldata modelIds) external {
        Worker storage w = _workers[msg.sender];
        if (w.registered) revert WorkerRegistryAlreadyRegistered(msg.sender);
        (, bytes32 digest) = Cid.parse(metadataCid);
        w.registered = true;
        w.metadataDigest = digest;
        emit WorkerRegistered(msg.sender, metadataCid);
        _setServed(modelIds, true);
    }

    /// @inheritdoc IWorkerRegistry
    function updateMetadata(bytes calldata metadataCid) external {
        Worker storage w = _registered(msg.sender);
        (, bytes32 digest) = Cid.parse(metadataCid);
        w.metadataDigest = digest;
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
    function leave() external {
        Worker storage w = _registered(msg.sender);
        // A new generation: the served-model flags of this life become unreachable.
        w.registered = false;
        w.generation += 1;
        w.metadataDigest = bytes32(0);
        emit WorkerLeft(msg.sender);
    }

    // --- stakes -----------------------------------------------------------------------------

    /// @inheritdoc IWorkerRegistry
    function stake(address token, uint256 amount) external payable nonReentrant {
        _stake(token, amount);
    }

    /// @inheritdoc IWorkerRegistry
    function unstake(address token, uint256 amount, address to) external nonReentrant {
        if (to == address(0)) revert WorkerRegistryZeroAddress();
        if (amount == 0) revert WorkerRegistryZeroAmount();
        Stake memory s = _stakes[msg.sender][token];
        uint256 free = s.stake - s.allocated;
        if (amount > free) revert WorkerRegistryInsufficientFreeStake(token, free, amount);
        // Safe: amount <= free <= stake, and every stake is counted in the total.
        unchecked {
            s.stake -= uint96(amount);
            _totalStaked[token] -= amount;
        }
        _stakes[msg.sender][token] = s;
        emit Unstaked(msg.sender, token, amount, to, s.stake);
        TokenTransfer.push(token, to, amount);
    }

    /// @inheritdoc IWorkerRegistry
    function allocate(address venue, address token, uint256 amount) external {
        _allocate(venue, token, amount);
    }

    /// @inheritdoc IWorkerRegistry
    function stakeAndAllocate(address venue, address token, uint256 amount) external payable nonReentrant {
        _stake(token, amount);
        _allocate(venue, token, amount);
    }

    /// @inheritdoc IWorkerRegistry
    function deallocate(address venue, address token, uint256 amount) external nonReentrant {
        if (amount == 0) revert WorkerRegistryZeroAmount();
        Allocation storage a = _allocations[msg.sender][token][venue];
        uint256 allocation = a.amount;
        if (amount > allocation) {
            revert WorkerRegistryInsufficientAllocation(venue, token, allocation, amount);
        }
        uint256 left;
        // Safe: checked just above.
        unchecked {
            left = allocation - amount;
        }
        uint256 locked = IVenue(venue).lockedOf(msg.sender, token);
        if (left < locked) revert WorkerRegistryAllocationLocked(venue, token, locked, left);
        _release(a, venue, token, amount, left);
    }

    /// @inheritdoc IWorkerRegistry
    function requestForcedDeallocation(address venue, address token) external {
        Allocation storage a = _allocations[msg.sender][token][venue];
        if (a.amount == 0) revert WorkerRegistryInsufficientAllocation(venue, token, 0, 0);
        uint40 at = uint40(block.timestamp) + FORCE_DELAY;
        a.forceAt = at;
        emit ForcedDeallocationRequested(msg.sender, token, venue, at);
    }

    /// @inheritdoc IWorkerRegistry
    function forceDeallocate(address venue, address token) external {
        Allocation storage a = _allocations[msg.sender][token][venue];
        uint40 at = a.forceAt;
        if (at == 0 || block.timestamp < at) revert WorkerRegistryForceNotDue(venue, token, at);
        a.forceAt = 0;
        _release(a, venue, token, a.amount, 0);
    }

    // --- venues -----------------------------------------------------------------------------

    /// @inheritdoc IWorkerRegistry
    function slash(address account, address token, uint256 amount) external nonReentrant returns (uint256 slashed) {
        Allocation storage a = _allocations[account][token][msg.sender];
        uint256 allocation = a.amount;
        slashed = amount < allocation ? amount : allocation;
        if (slashed == 0) return 0;
        Stake memory s = _stakes[account][token];
        // Safe: slashed <= allocation <= allocated <= stake <= the token's total.
        unchecked {
            a.amount = uint96(allocation - slashed);
            s.allocated -= uint96(slashed);
            s.stake -= uint96(slashed);
            _totalStaked[token] -= slashed;
        }
        if (slashed == allocation) a.forceAt = 0;
        _stakes[account][token] = s;
        emit Slashed(account, token, msg.sender, slashed, s.stake);
        TokenTransfer.push(token, msg.sender, slashed);
    }

    // --- views ------------------------------------------------------------------------------

    /// @inheritdoc IWorkerRegistry
    function worker(address account)
        external
        view
        returns (bool registered, uint32 generation, bytes32 metadataDigest_)
    {
        Worker storage w = _workers[account];
        return (w.registered, w.generation, w.metadataDigest);
    }

    /// @inheritdoc IWorkerRegistry
    function serves(address account, uint32 modelId) external view returns (bool) {
        Worker storage w = _workers[account];
        return w.registered && _serves[account][w.generation][modelId];
    }

    /// @inheritdoc IWorkerRegistry
    function metadataDigest(address account) external view returns (bytes32) {
        return _workers[account].metadataDigest;
    }

    /// @inheritdoc IWorkerRegistry
    function stakeOf(address account, address token) external view returns (uint256 staked, uint256 allocated) {
        Stake memory s = _stakes[account][token];
        return (s.stake, s.allocated);
    }

    /// @inheritdoc IWorkerRegistry
    function allocationOf(address account, address token, address venue) external view returns (uint256) {
        Allocation memory a = _allocations[account][token][venue];
        return a.forceAt == 0 ? a.amount : 0;
    }

    /// @inheritdoc IWorkerRegistry
    function allocationState(address account, address token, address venue) external view returns (Allocation memory) {
        return _allocations[account][token][venue];
    }

    /// @inheritdoc IWorkerRegistry
    function totalStaked(address token) external view returns (uint256) {
        return _totalStaked[token];
    }

    // --- internal ---------------------------------------------------------------------------

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
    function _stake(address token, uint256 amount) private {
        if (amount == 0) revert WorkerRegistryZeroAmount();
        Stake storage s = _stakes[msg.sender][token];
        uint256 staked = s.stake + amount;
        if (staked > type(uint96).max) revert WorkerRegistryStakeTooLarge(staked);
        s.stake = uint96(staked);
        _totalStaked[token] += amount;
        emit Staked(msg.sender, token, amount, staked);
        if (token == address(0)) {
            if (msg.value != amount) revert WorkerRegistryValueMismatch(amount, msg.value);
        } else {
            if (msg.value != 0) revert WorkerRegistryValueMismatch(0, msg.value);
            TokenTransfer.pull(token, msg.sender, amount);
        }
    }

    function _allocate(address venue, address token, uint256 amount) private {
        if (amount == 0) revert WorkerRegistryZeroAmount();
        if (venue.code.length == 0) revert WorkerRegistryNotVenue(venue);
        Stake storage s = _stakes[msg.sender][token];
        uint256 free = s.stake - s.allocated;
        if (amount > free) revert WorkerRegistryInsufficientFreeStake(token, free, amount);
        Allocation storage a = _allocations[msg.sender][token][venue];
        if (a.forceAt != 0) revert WorkerRegistryForcePending(venue, token, a.forceAt);
        // Safe: amount <= free, so both stay <= stake, a uint96.
        uint96 allocation;
        unchecked {
            s.allocated += uint96(amount);
            allocation = a.amount + uint96(amount);
        }
        a.amount = allocation;
        emit Allocated(msg.sender, token, venue, amount, allocation);
    }

    function _release(Allocation storage a, address venue, address token, uint256 amount, uint256 left) private {
        // Safe: amount <= allocation <= allocated.
        unchecked {
            a.amount = uint96(left);
            _stakes[msg.sender][token].allocated -= uint96(amount);
        }
        // An emptied allocation ends a pending forced deallocation: the worker may allocate anew.
        if (left == 0) a.forceAt = 0;
        emit Deallocated(msg.sender, token, venue, amount, left);
    }
}
