// SPDX-License-Identifier: MIT
// Devnet only: the first implementation behind the Wormhole core proxy. It is delegatecalled once
// from the proxy's constructor, writes the state that the real core `Implementation` (shipped in
// @wormhole-foundation/sdk-evm-core) reads, and then points the proxy at that implementation.
// Its storage mirrors the core contract's: one struct starting at slot 0.
//
//   slot 0  chainId (uint16, bytes 0-1) | governanceChainId (uint16, bytes 2-3)
//   slot 1  governanceContract (bytes32)
//   slot 2  guardianSets: mapping(uint32 => {address[] keys; uint32 expirationTime})
//   slot 3  guardianSetIndex (uint32, bytes 0-3) | guardianSetExpiry (uint32, bytes 4-7)
//   slot 4  sequences: mapping(address => uint64)
//   slot 5  consumedGovernanceActions: mapping(bytes32 => bool)
//   slot 6  initializedImplementations: mapping(address => bool)
//   slot 7  messageFee (uint256)
//   slot 8  evmChainId (uint256)
pragma solidity ^0.8.22;

import {ERC1967Utils} from "@openzeppelin/contracts/proxy/ERC1967/ERC1967Utils.sol";

contract WormholeDevnetSetup {
    struct GuardianSet {
        address[] keys;
        uint32 expirationTime;
    }

    struct CoreState {
        uint16 chainId;
        uint16 governanceChainId;
        bytes32 governanceContract;
        mapping(uint32 => GuardianSet) guardianSets;
        uint32 guardianSetIndex;
        uint32 guardianSetExpiry;
        mapping(address => uint64) sequences;
        mapping(bytes32 => bool) consumedGovernanceActions;
        mapping(address => bool) initializedImplementations;
        uint256 messageFee;
        uint256 evmChainId;
    }

    CoreState private core;

    error NoGuardians();
    error DuplicateOrZeroGuardian(address guardian);
    error WrongEvmChainId(uint256 given, uint256 actual);
    error NotAContract(address implementation);

    /// Writes guardian set 0 and the chain's parameters, then upgrades the proxy to `implementation`.
    function setup(
        address implementation,
        address[] calldata guardians,
        uint16 wormholeChainId,
        uint256 evmChainId,
        uint16 governanceChainId,
        bytes32 governanceContract,
        uint256 messageFee
    ) external {
        if (guardians.length == 0) revert NoGuardians();
        for (uint256 i = 0; i < guardians.length; i++) {
            if (guardians[i] == address(0)) revert DuplicateOrZeroGuardian(guardians[i]);
            for (uint256 j = 0; j < i; j++) {
                if (guardians[j] == guardians[i]) revert DuplicateOrZeroGuardian(guardians[i]);
            }
        }
        // The core reports a fork chain id whenever its evmChainId differs from block.chainid.
        if (evmChainId != block.chainid) revert WrongEvmChainId(evmChainId, block.chainid);
        if (implementation.code.length == 0) revert NotAContract(implementation);

        core.chainId = wormholeChainId;
        core.governanceChainId = governanceChainId;
        core.governanceContract = governanceContract;
        GuardianSet storage set0 = core.guardianSets[0];
        for (uint256 i = 0; i < guardians.length; i++) set0.keys.push(guardians[i]);
        set0.expirationTime = 0;
        core.guardianSetIndex = 0;
        core.messageFee = messageFee;
        core.evmChainId = evmChainId;
        // Mark the implementation initialised, as its own `initialize()` would: nobody can run it later.
        core.initializedImplementations[implementation] = true;

        ERC1967Utils.upgradeToAndCall(implementation, "");
    }
}
