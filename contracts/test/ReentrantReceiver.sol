// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IJobMarket} from "../interfaces/IJobMarket.sol";
import {IWorkerRegistry} from "../interfaces/IWorkerRegistry.sol";

/// @title ReentrantReceiver
/// @notice Test account whose receive() tries to take its money twice: it reenters the
/// market's withdraw (or the registry's unstake) while being paid. With `bubble` it
/// reverts when the reentry fails, otherwise it swallows the failure and keeps what it got.
contract ReentrantReceiver {
    IJobMarket public immutable MARKET;
    IWorkerRegistry public immutable REGISTRY;
    bool public bubble;
    uint256 public reentryAttempts;
    uint256 public reentrySuccesses;

    constructor(IJobMarket market, IWorkerRegistry registry, bool bubble_) {
        MARKET = market;
        REGISTRY = registry;
        bubble = bubble_;
    }

    function depositToMarket() external payable {
        MARKET.deposit{value: msg.value}(address(0), msg.value);
    }

    function withdrawFromMarket(uint256 amount) external {
        MARKET.withdraw(address(0), address(this), amount);
    }

    function stakeWorker() external payable {
        REGISTRY.stake{value: msg.value}(address(0), msg.value);
    }

    function unstake(uint256 amount) external {
        REGISTRY.unstake(address(0), amount, address(this));
    }

    receive() external payable {
        if (msg.sender != address(MARKET) && msg.sender != address(REGISTRY)) return;
        reentryAttempts += 1;
        bool ok;
        if (msg.sender == address(MARKET)) {
            (ok,) = address(MARKET).call(
                abi.encodeCall(IJobMarket.withdraw, (address(0), address(this), msg.value))
            );
        } else {
            (ok,) = address(REGISTRY).call(
                abi.encodeCall(IWorkerRegistry.unstake, (address(0), msg.value, address(this)))
            );
        }
        if (ok) reentrySuccesses += 1;
        else if (bubble) revert("reentry refused");
    }
}
