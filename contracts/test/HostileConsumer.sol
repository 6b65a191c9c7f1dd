// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IInferenceConsumer} from "../interfaces/IInferenceConsumer.sol";
import {IJobMarket} from "../interfaces/IJobMarket.sol";

/// @title HostileConsumer
/// @notice Test callback that misbehaves on purpose: it reverts, burns its whole stipend,
/// reenters the market, or reverts with a huge payload. Payment must go through anyway.
contract HostileConsumer is IInferenceConsumer {
    enum Mode {
        Revert,
        BurnGas,
        Reenter,
        ReturnBomb,
        Accept
    }

    IJobMarket public immutable MARKET;
    Mode public mode;
    uint256 public accepted;

    error HostileConsumerRefused(uint256 jobId);

    constructor(IJobMarket market, Mode mode_) {
        MARKET = market;
        mode = mode_;
    }

    function setMode(Mode mode_) external {
        mode = mode_;
    }

    function onInferenceResult(uint256 jobId, bytes calldata) external {
        Mode m = mode;
        if (m == Mode.Revert) revert HostileConsumerRefused(jobId);
        if (m == Mode.BurnGas) {
            while (true) {}
        }
        if (m == Mode.Reenter) {
            // Guarded: this reverts, so the whole callback fails.
            MARKET.withdraw(address(0), address(this), 1);
        }
        if (m == Mode.ReturnBomb) {
            assembly {
                revert(0, 100000)
            }
        }
        accepted += 1;
    }
}
