// SPDX-License-Identifier: MIT
// Source-chain vault: takes a trader's collateral, gives it a lockId from its own nonce and sends a
// CREDIT to the destination engine through the route's transport (LayerZero v2 or Wormhole).
pragma solidity ^0.8.22;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {OApp, Origin, MessagingFee} from "@layerzerolabs/oapp-evm/contracts/oapp/OApp.sol";
import {ExecutorOptions} from "@layerzerolabs/lz-evm-messagelib-v2/contracts/libs/ExecutorOptions.sol";
import {MarginMessages} from "./libraries/MarginMessages.sol";
import {IWormhole} from "./interfaces/IWormhole.sol";

contract CollateralVault is OApp, ReentrancyGuard {
    using SafeERC20 for IERC20;

    uint8 public constant TRANSPORT_LAYERZERO = 1;
    uint8 public constant TRANSPORT_WORMHOLE = 2;

    /// @dev LayerZero options container type 3 (see the executor options of lz-evm-messagelib-v2).
    uint16 private constant LZ_OPTIONS_TYPE_3 = 3;

    struct Route {
        uint8 transport;
        uint32 lzEid;
        uint128 lzReceiveGas;
        /// @dev Wormhole: how final the source block must be before guardians sign (1 = finalized).
        uint8 wormholeConsistency;
        bool enabled;
    }

    /// @notice Route per destination EVM chain id.
    mapping(uint64 => Route) public routes;
    mapping(address => bool) public tokenAllowed;
    /// @notice Per-lock cap per token; 0 means no cap.
    mapping(address => uint256) public maxLock;
    bool public paused;
    /// @notice The Wormhole core of this chain, for routes whose transport is Wormhole.
    IWormhole public wormhole;
    /// @notice Receives seized collateral (SEIZE handling lands with the next issue).
    address public insuranceFund;

    /// @notice Nonce of the last lock; the first lock uses 1. Gaps are how the relayer detects
    /// missed logs, so it only ever increments by one.
    uint64 public nonce;
    /// @notice Collateral locked and not yet released or seized, per token.
    mapping(address => uint256) public outstanding;
    /// @notice RELEASE/SEIZE message ids already executed (replay guard for the return path,
    /// used by the next issue).
    mapping(bytes32 => bool) public executed;

    error Paused();
    error TokenNotAllowed(address token);
    error ZeroLockAmount();
    error LockAboveCap(address token, uint256 amount, uint256 maxAmount);
    error RouteDisabled(uint64 dstChainId);
    error UnsupportedTransport(uint8 transport);
    error InvalidRoute();
    error FeeOnTransferToken(address token, uint256 expected, uint256 received);
    error UnsupportedKind(uint8 kind);
    error InsufficientFee(uint256 sent, uint256 needed);
    error RefundFailed(address to);

    event RouteSet(uint64 indexed dstChainId, uint8 transport, uint32 lzEid, uint128 lzReceiveGas, uint8 wormholeConsistency, bool enabled);
    event WormholeSet(address indexed wormhole);
    event TokenAllowedSet(address indexed token, bool allowed);
    event MaxLockSet(address indexed token, uint256 maxAmount);
    event PausedSet(bool paused);
    event InsuranceFundSet(address indexed insuranceFund);
    event CollateralLocked(
        bytes32 indexed lockId,
        address indexed trader,
        address indexed token,
        uint256 amount,
        uint64 dstChainId,
        uint256 positionId,
        uint64 nonce,
        bytes32 transportId
    );

    constructor(address endpoint_, address owner_) OApp(endpoint_, owner_) Ownable(owner_) {}

    // ---------------------------------------------------------------- owner

    function setRoute(uint64 dstChainId, Route calldata route) external onlyOwner {
        if (route.enabled) {
            if (route.transport == TRANSPORT_LAYERZERO) {
                if (route.lzEid == 0 || route.lzReceiveGas == 0) revert InvalidRoute();
            } else if (route.transport == TRANSPORT_WORMHOLE) {
                if (address(wormhole) == address(0)) revert InvalidRoute();
            } else {
                revert UnsupportedTransport(route.transport);
            }
        }
        routes[dstChainId] = route;
        emit RouteSet(dstChainId, route.transport, route.lzEid, route.lzReceiveGas, route.wormholeConsistency, route.enabled);
    }

    function setWormhole(address wormhole_) external onlyOwner {
        wormhole = IWormhole(wormhole_);
        emit WormholeSet(wormhole_);
    }

    function setTokenAllowed(address token, bool allowed) external onlyOwner {
        tokenAllowed[token] = allowed;
        emit TokenAllowedSet(token, allowed);
    }

    function setMaxLock(address token, uint256 maxAmount) external onlyOwner {
        maxLock[token] = maxAmount;
        emit MaxLockSet(token, maxAmount);
    }

    function setPaused(bool paused_) external onlyOwner {
        paused = paused_;
        emit PausedSet(paused_);
    }

    function setInsuranceFund(address insuranceFund_) external onlyOwner {
        insuranceFund = insuranceFund_;
        emit InsuranceFundSet(insuranceFund_);
    }

    // ---------------------------------------------------------------- trader

    /// @notice Native fee `lock` must be paid with for the same arguments.
    function quoteLock(address token, uint256 amount, uint64 dstChainId, uint256 positionId)
        external
        view
        returns (uint256 nativeFee)
    {
        Route memory route = _enabledRoute(dstChainId);
        // The fee depends on the payload's size, not its contents; quote the message lock would send.
        bytes memory payload = _creditPayload(nonce + 1, msg.sender, positionId, token, amount);
        return _quoteMessage(route, payload);
    }

    function lock(address token, uint256 amount, uint64 dstChainId, uint256 positionId)
        external
        payable
        nonReentrant
        returns (bytes32 lockId)
    {
        if (paused) revert Paused();
        if (!tokenAllowed[token]) revert TokenNotAllowed(token);
        if (amount == 0) revert ZeroLockAmount();
        uint256 cap = maxLock[token];
        if (cap != 0 && amount > cap) revert LockAboveCap(token, amount, cap);
        Route memory route = _enabledRoute(dstChainId);

        // Credit exactly what arrived: a token that skims on transfer would credit more than it holds.
        IERC20 erc20 = IERC20(token);
        uint256 balanceBefore = erc20.balanceOf(address(this));
        erc20.safeTransferFrom(msg.sender, address(this), amount);
        uint256 received = erc20.balanceOf(address(this)) - balanceBefore;
        if (received != amount) revert FeeOnTransferToken(token, amount, received);

        uint64 lockNonce = ++nonce;
        lockId = MarginMessages.messageId(uint64(block.chainid), address(this), lockNonce);
        outstanding[token] += amount;

        bytes memory payload = _creditPayload(lockNonce, msg.sender, positionId, token, amount);
        bytes32 transportId = _sendMessage(route, payload, msg.value, msg.sender);

        emit CollateralLocked(lockId, msg.sender, token, amount, dstChainId, positionId, lockNonce, transportId);
    }

    // ---------------------------------------------------------------- transport seam

    /// @dev The only place that sends. Returns the transport's own message id: the LayerZero
    /// guid, or the Wormhole VAA id keccak256(emitterChain, emitter, sequence).
    function _sendMessage(Route memory route, bytes memory payload, uint256 fee, address refund)
        internal
        returns (bytes32 transportId)
    {
        if (route.transport == TRANSPORT_LAYERZERO) {
            return _lzSend(route.lzEid, payload, _lzOptions(route), MessagingFee(fee, 0), refund).guid;
        }
        if (route.transport == TRANSPORT_WORMHOLE) {
            uint256 messageFee = wormhole.messageFee();
            if (fee < messageFee) revert InsufficientFee(fee, messageFee);
            uint64 sequence = wormhole.publishMessage{value: messageFee}(0, payload, route.wormholeConsistency);
            if (fee > messageFee) {
                (bool ok,) = refund.call{value: fee - messageFee}("");
                if (!ok) revert RefundFailed(refund);
            }
            return keccak256(abi.encodePacked(wormhole.chainId(), bytes32(uint256(uint160(address(this)))), sequence));
        }
        revert UnsupportedTransport(route.transport);
    }

    /// @dev The only place that quotes, mirroring _sendMessage.
    function _quoteMessage(Route memory route, bytes memory payload) internal view returns (uint256) {
        if (route.transport == TRANSPORT_LAYERZERO) {
            return _quote(route.lzEid, payload, _lzOptions(route), false).nativeFee;
        }
        if (route.transport == TRANSPORT_WORMHOLE) return wormhole.messageFee();
        revert UnsupportedTransport(route.transport);
    }

    /// @dev Type-3 options with one executor lzReceive option (gas, no value). Built here rather
    /// than with oapp-evm's OptionsBuilder, whose solidity-bytes-utils dependency is not installed.
    function _lzOptions(Route memory route) internal pure returns (bytes memory) {
        bytes memory option = ExecutorOptions.encodeLzReceiveOption(route.lzReceiveGas, 0);
        return abi.encodePacked(
            LZ_OPTIONS_TYPE_3,
            ExecutorOptions.WORKER_ID,
            uint16(option.length + 1), // + 1 for the option type byte
            ExecutorOptions.OPTION_TYPE_LZRECEIVE,
            option
        );
    }

    /// @dev Messages from the engine arrive here once the peer check in OAppReceiver passed.
    /// RELEASE and SEIZE are handled in a later issue; until then every kind is refused
    /// explicitly so that nothing is executed by accident.
    function _lzReceive(
        Origin calldata, /* origin */
        bytes32, /* guid */
        bytes calldata message,
        address, /* executor */
        bytes calldata /* extraData */
    ) internal pure override {
        MarginMessages.Message memory m = MarginMessages.decode(message);
        revert UnsupportedKind(m.kind);
    }

    // ---------------------------------------------------------------- internals

    function _enabledRoute(uint64 dstChainId) private view returns (Route memory route) {
        route = routes[dstChainId];
        if (!route.enabled) revert RouteDisabled(dstChainId);
    }

    function _creditPayload(uint64 lockNonce, address trader, uint256 positionId, address token, uint256 amount)
        private
        view
        returns (bytes memory)
    {
        return MarginMessages.encode(
            MarginMessages.Message({
                version: MarginMessages.VERSION,
                kind: MarginMessages.CREDIT,
                originChainId: uint64(block.chainid),
                origin: address(this),
                nonce: lockNonce,
                trader: trader,
                positionId: positionId,
                token: token,
                amount: amount
            })
        );
    }
}
