// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IVenue} from "../interfaces/IVenue.sol";
import {IWorkerRegistry} from "../interfaces/IWorkerRegistry.sol";

/// @title MockVenue
/// @notice Test venue of the worker registry: anyone sets what it reports locked, makes it
/// broken (its {lockedOf} reverts, as a venue gone wrong) and slashes through it. It keeps
/// what it is paid.
contract MockVenue is IVenue {
    IWorkerRegistry public immutable REGISTRY;
    bool public broken;
    mapping(address worker => mapping(address token => uint256)) public locked;

    constructor(IWorkerRegistry registry) {
        REGISTRY = registry;
    }

    function setLocked(address worker, address token, uint256 amount) external {
        locked[worker][token] = amount;
    }

    function setBroken(bool broken_) external {
        broken = broken_;
    }

    function slash(address worker, address token, uint256 amount) external returns (uint256) {
        return REGISTRY.slash(worker, token, amount);
    }

    function lockedOf(address worker, address token) external view returns (uint256) {
        require(!broken, "broken venue");
        return locked[worker][token];
    }

    receive() external payable {}
}
