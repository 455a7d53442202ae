// SPDX-License-Identifier: MIT
// The owner of the engine and of its attester set: every admin action (markets, collateral,
// sources, executors, insurance, modules' parameters) is scheduled, visible on chain for
// `minDelay`, then executed. OpenZeppelin's TimelockController, deployed under our name so that
// its artifact is built from our sources. Pausing does not wait: the engine's pause role does it.
pragma solidity ^0.8.22;

import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";

contract AdminTimelock is TimelockController {
    constructor(uint256 minDelay, address[] memory proposers, address[] memory executors, address admin)
        TimelockController(minDelay, proposers, executors, admin)
    {}
}
