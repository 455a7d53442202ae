// SPDX-License-Identifier: MIT
// Destination-chain engine. Credit: accepts a CREDIT only from the registered vault of its source
// chain, once per lockId. Trading: one isolated position per (trader, positionId), margined by the
// collateral of one (source chain, token), long or short on one market at this chain's oracle price.
// Settlement: RELEASE (to the trader) and SEIZE (to the insurance fund) go back to the vault holding
// the collateral; profit beyond it is paid here from the settlement pool. Liquidation needs an
// EIP-712 price attestation signed by a quorum of attesters (PriceAttestations, docs/liquidation.md).
pragma solidity ^0.8.22;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {OApp, Origin, MessagingFee} from "@layerzerolabs/oapp-evm/contracts/oapp/OApp.sol";
import {MarginMessages} from "./libraries/MarginMessages.sol";
import {MarginMath} from "./libraries/MarginMath.sol";
import {LzOptions} from "./libraries/LzOptions.sol";
import {IWormhole} from "./interfaces/IWormhole.sol";
import {AggregatorV3Interface} from "./interfaces/AggregatorV3Interface.sol";
import {IPriceAttestations, PriceAttestation} from "./interfaces/IPriceAttestations.sol";

contract IsolatedMarginEngine is OApp, ReentrancyGuard {
    using SafeERC20 for IERC20;

    uint8 public constant TRANSPORT_LAYERZERO = 1;
    uint8 public constant TRANSPORT_WORMHOLE = 2;
    uint256 private constant WAD = 1e18;
    uint256 private constant BPS = 10_000;

    struct CollateralConfig {
        uint8 decimals;
        bool allowed;
        /// @dev Worth one USD per unit (a stablecoin): only such collateral margins a trade here.
        /// Other collateral is credited and can be withdrawn or closed, never traded on.
        bool usdValued;
    }

    /// @notice How RELEASE and SEIZE reach a source chain (its vault is the LayerZero peer or the
    /// Wormhole emitter registered for it).
    struct ReturnRoute {
        uint8 transport;
        uint128 lzReceiveGas;
        uint8 wormholeConsistency;
    }

    /// @notice Rates are 1e18 fixed point (5% = 0.05e18).
    struct Market {
        address priceFeed; // AggregatorV3Interface on this chain
        uint32 heartbeat; // seconds after which the feed's answer is stale
        uint32 maxAttestationAge; // seconds
        uint16 maxDeviationBps; // between an attested median and this chain's own oracle
        uint8 minAttestedChains; // independent chains an attestation must name
        bool enabled;
        uint64 imr;
        uint64 mmr;
        uint64 feeRate; // on traded notional
    }

    /// @notice One isolated position. Collateral is in `collateral[key][collateralKey]`.
    struct Position {
        bytes32 market;
        uint64 srcChainId; // where its collateral is locked (0 until the first credit)
        address token; // the collateral token on that chain
        MarginMath.Side side;
        uint256 size; // asset units, 1e18
        uint256 entryPrice; // USD per unit, 1e18
        uint256 fees; // USD, 1e18, accrued and not yet settled
        int256 realizedPnl; // USD, 1e18, from decreases, settled at close
    }

    /// @dev Who and where a RELEASE or SEIZE goes.
    struct Outbound {
        uint64 chainId;
        address trader;
        uint256 positionId;
        address token;
    }

    // ---------------------------------------------------------------- credit path

    /// @notice EVM chain id of each registered source, by LayerZero endpoint id.
    mapping(uint32 => uint64) public chainIdOfEid;
    /// @notice LayerZero endpoint id of each registered source chain (for RELEASE/SEIZE back).
    mapping(uint64 => uint32) internal eidOfChainId;
    /// @notice Accepted collateral per (source chain id, token on that chain).
    mapping(uint64 => mapping(address => CollateralConfig)) public collateralConfig;
    /// @notice lockIds already credited: the on-chain replay guard.
    mapping(bytes32 => bool) public processed;
    /// @notice Who may execute a CREDIT (the LayerZero executor, the caller of receiveWormholeMessage):
    /// the relayers whose route limits decide execution. A verified CREDIT that a relayer holds (above
    /// its route's cap) cannot be executed by someone else.
    mapping(address => bool) public executors;

    // Wormhole transport: the core contract, the trusted emitter (vault) per Wormhole chain id,
    // the EVM chain id behind it, and every VAA hash already consumed (each executes once).
    IWormhole public wormhole;
    mapping(uint16 => bytes32) public wormholeEmitters;
    mapping(uint16 => uint64) internal chainIdOfWormhole;
    mapping(bytes32 => bool) public consumedVaas;
    /// @notice Credited amount per positionKey and collateralKey, in the token's own units.
    mapping(bytes32 => mapping(bytes32 => uint256)) internal collateral;

    // ---------------------------------------------------------------- trading and settlement

    /// @notice By positionKey.
    mapping(bytes32 => Position) internal positions;
    /// @notice By market id (e.g. keccak256("ETH-USD")).
    mapping(bytes32 => Market) public markets;
    /// @notice Who a positionKey belongs to, recorded at its first credit.
    mapping(bytes32 => address) internal traderOf;
    mapping(bytes32 => uint256) internal positionIdOf;
    /// @notice Nonce of the engine's last RELEASE/SEIZE per source chain; the first uses 1. One
    /// sequence per vault, so that a relayer sees a gap in what one vault should receive.
    mapping(uint64 => uint64) public outboundNonce;
    mapping(uint64 => ReturnRoute) public returnRoutes;
    mapping(uint64 => uint16) internal wormholeChainOf;
    /// @notice Receives seized losses (on the source chains; the vaults hold the address).
    address public insuranceFund;
    /// @notice Pays profit beyond a position's collateral on this chain, in `settlementToken`.
    address public settlementPool;
    IERC20 public settlementToken;
    uint8 internal settlementDecimals;

    // ---------------------------------------------------------------- liquidation

    /// @notice Checks attestations against the attester set and uses each once.
    IPriceAttestations public attestations;

    error InvalidSource();
    error UnsupportedKind(uint8 kind);
    error OriginMismatch();
    error AlreadyProcessed(bytes32 lockId);
    error CollateralNotAllowed(uint64 srcChainId, address token);
    error InvalidVaa(string reason);
    error UnknownEmitter(uint16 emitterChainId, bytes32 emitterAddress);
    error VaaAlreadyConsumed(bytes32 vaaHash);
    error InvalidConfig();
    error MarketDisabled(bytes32 market);
    error NoCollateral();
    error CollateralNotTradable(uint64 srcChainId, address token);
    error WrongMarket(bytes32 positionMarket, bytes32 market);
    error WrongSide();
    error ZeroSize();
    error SizeTooLarge(uint256 size, uint256 open);
    error InsufficientMargin(int256 equity, uint256 required);
    error OracleStale(address feed, uint256 updatedAt);
    error OracleInvalid(address feed);
    error NoReturnRoute(uint64 chainId);
    error InsufficientFeeBalance(uint256 balance, uint256 fee);
    error NothingToLiquidate();
    error OracleDeviation(uint256 ownPrice, uint256 median);
    error NotLiquidatable(int256 equity, uint256 maintenance);
    error NotForThisEngine(uint64 targetChainId, address target);
    error NotExecutor(address executor);

    event SourceRegistered(uint32 indexed lzEid, uint64 indexed chainId, address vault);
    event WormholeSourceRegistered(uint16 indexed wormholeChainId, uint64 indexed chainId, address vault);
    event WormholeSet(address indexed wormhole);
    event CollateralSet(uint64 indexed srcChainId, address indexed token, uint8 decimals, bool allowed, bool usdValued);
    event MarketSet(bytes32 indexed market, Market config);
    event ReturnRouteSet(uint64 indexed chainId, uint8 transport, uint128 lzReceiveGas, uint8 wormholeConsistency);
    event AttestationsSet(address indexed attestations);
    event SettlementSet(address insuranceFund, address settlementPool, address settlementToken);
    event PositionCredited(
        bytes32 indexed lockId,
        bytes32 indexed positionKey,
        address indexed trader,
        uint256 positionId,
        uint64 srcChainId,
        address token,
        uint256 amount,
        bytes32 transportId
    );
    /// @notice After any change to a position: a keeper re-reads it (accountOf) and re-indexes it.
    event PositionChanged(bytes32 indexed positionKey, address indexed trader, uint256 positionId, bytes32 indexed market);
    event PositionTraded(bytes32 indexed positionKey, bool increase, uint256 size, uint256 price, uint256 fee);
    event PositionClosed(bytes32 indexed positionKey, int256 settledUsd, uint256 released, uint256 seized, uint256 profitPaid);
    event PositionLiquidated(bytes32 indexed positionKey, bytes32 indexed market, uint256 price, bytes32 attestation, uint256 seized);
    event CollateralWithdrawn(bytes32 indexed positionKey, uint256 amount);
    /// @notice A CREDIT of a token this engine does not accept: the lock is refunded (a RELEASE back), never stranded.
    event CreditRefunded(bytes32 indexed lockId, uint64 indexed srcChainId, address indexed trader, address token, uint256 amount);
    event SettlementSent(
        bytes32 indexed messageId,
        uint64 indexed dstChainId,
        uint8 kind,
        address trader,
        uint256 positionId,
        address token,
        uint256 amount,
        bytes32 transportId
    );

    constructor(address endpoint_, address owner_) OApp(endpoint_, owner_) Ownable(owner_) {}

    /// @notice Native balance pays the messaging fees of RELEASE and SEIZE.
    receive() external payable {}

    // ---------------------------------------------------------------- owner

    /// @notice Trusts `vault` as the only sender on `lzEid`, which is EVM chain `chainId`.
    function registerSource(uint32 lzEid, uint64 chainId, address vault) external onlyOwner {
        if (lzEid == 0 || chainId == 0 || vault == address(0)) revert InvalidSource();
        _setPeer(lzEid, bytes32(uint256(uint160(vault))));
        chainIdOfEid[lzEid] = chainId;
        eidOfChainId[chainId] = lzEid;
        emit SourceRegistered(lzEid, chainId, vault);
    }

    function setWormhole(address wormhole_) external onlyOwner {
        wormhole = IWormhole(wormhole_);
        emit WormholeSet(wormhole_);
    }

    /// @notice Trusts `vault` as the only Wormhole emitter of `wormholeChainId`, which is EVM chain `chainId`.
    function registerWormholeSource(uint16 wormholeChainId, uint64 chainId, address vault) external onlyOwner {
        if (wormholeChainId == 0 || chainId == 0 || vault == address(0)) revert InvalidSource();
        wormholeEmitters[wormholeChainId] = bytes32(uint256(uint160(vault)));
        chainIdOfWormhole[wormholeChainId] = chainId;
        wormholeChainOf[chainId] = wormholeChainId;
        emit WormholeSourceRegistered(wormholeChainId, chainId, vault);
    }

    function setExecutor(address executor, bool allowed) external onlyOwner {
        executors[executor] = allowed;
    }

    function setCollateral(uint64 srcChainId, address token, uint8 decimals, bool allowed, bool usdValued) external onlyOwner {
        if (decimals > 18) revert InvalidConfig();
        collateralConfig[srcChainId][token] = CollateralConfig(decimals, allowed, usdValued);
        emit CollateralSet(srcChainId, token, decimals, allowed, usdValued);
    }

    function setMarket(bytes32 market, Market calldata config) external onlyOwner {
        if (config.priceFeed == address(0) || config.heartbeat == 0 || config.maxAttestationAge == 0) revert InvalidConfig();
        if (config.maxDeviationBps == 0 || config.minAttestedChains < 2) revert InvalidConfig();
        if (config.mmr == 0 || config.imr < config.mmr || config.imr > WAD || config.feeRate >= WAD) revert InvalidConfig();
        markets[market] = config;
        emit MarketSet(market, config);
    }

    function setReturnRoute(uint64 chainId, ReturnRoute calldata route) external onlyOwner {
        if (route.transport == TRANSPORT_LAYERZERO) {
            if (eidOfChainId[chainId] == 0 || route.lzReceiveGas == 0) revert InvalidConfig();
        } else if (route.transport == TRANSPORT_WORMHOLE) {
            if (address(wormhole) == address(0) || wormholeChainOf[chainId] == 0) revert InvalidConfig();
        } else {
            revert InvalidConfig();
        }
        returnRoutes[chainId] = route;
        emit ReturnRouteSet(chainId, route.transport, route.lzReceiveGas, route.wormholeConsistency);
    }

    function setAttestations(address attestations_) external onlyOwner {
        if (attestations_ == address(0)) revert InvalidConfig();
        attestations = IPriceAttestations(attestations_);
        emit AttestationsSet(attestations_);
    }

    function setSettlement(address insuranceFund_, address settlementPool_, address settlementToken_, uint8 decimals_)
        external
        onlyOwner
    {
        if (insuranceFund_ == address(0) || settlementPool_ == address(0) || settlementToken_ == address(0) || decimals_ > 18) {
            revert InvalidConfig();
        }
        insuranceFund = insuranceFund_;
        settlementPool = settlementPool_;
        settlementToken = IERC20(settlementToken_);
        settlementDecimals = decimals_;
        emit SettlementSet(insuranceFund_, settlementPool_, settlementToken_);
    }

    // ---------------------------------------------------------------- views

    function positionKeyOf(address trader, uint256 positionId) public pure returns (bytes32) {
        return keccak256(abi.encode(trader, positionId));
    }

    function collateralKeyOf(uint64 srcChainId, address token) internal pure returns (bytes32) {
        return keccak256(abi.encode(srcChainId, token));
    }

    function collateralOf(address trader, uint256 positionId, uint64 srcChainId, address token)
        external
        view
        returns (uint256)
    {
        return collateral[positionKeyOf(trader, positionId)][collateralKeyOf(srcChainId, token)];
    }

    /// @notice The position and its bound collateral in the token's units.
    function positionOf(bytes32 positionKey) external view returns (Position memory p, uint256 collateralAmount) {
        p = positions[positionKey];
        collateralAmount = collateral[positionKey][collateralKeyOf(p.srcChainId, p.token)];
    }

    /// @notice The margin account of a position as MarginMath sees it (stable collateral in USD 1e18,
    /// realized PnL folded into collateral or fees).
    function accountOf(bytes32 positionKey) public view returns (MarginMath.Account memory a) {
        Position storage p = positions[positionKey];
        uint256 usd = _collateralUsd(positionKey, p);
        uint256 fees = p.fees;
        if (p.realizedPnl >= 0) usd += uint256(p.realizedPnl);
        else fees += uint256(-p.realizedPnl);
        a = MarginMath.Account({
            position: MarginMath.Position({side: p.side, size: p.size, entryPrice: p.entryPrice}),
            collateral: MarginMath.Collateral({kind: MarginMath.CollateralKind.Stable, amount: usd}),
            fees: fees
        });
    }

    /// @notice This chain's oracle price of `market`, 1e18; reverts if stale or invalid.
    function oraclePrice(bytes32 market) public view returns (uint256) {
        Market storage m = markets[market];
        if (m.priceFeed == address(0)) revert MarketDisabled(market);
        AggregatorV3Interface feed = AggregatorV3Interface(m.priceFeed);
        (uint80 roundId, int256 answer,, uint256 updatedAt, uint80 answeredInRound) = feed.latestRoundData();
        if (answer <= 0 || answeredInRound < roundId) revert OracleInvalid(m.priceFeed);
        if (updatedAt + m.heartbeat < block.timestamp) revert OracleStale(m.priceFeed, updatedAt);
        uint8 d = feed.decimals();
        // Exact for d ≤ 18, the only feeds accepted.
        if (d > 18) revert OracleInvalid(m.priceFeed);
        return uint256(answer) * 10 ** (18 - d);
    }

    // ---------------------------------------------------------------- trader

    /// @notice Opens (from no exposure) or grows a position at this chain's oracle price; the
    /// initial margin must hold afterwards.
    function increase(uint256 positionId, bytes32 market, MarginMath.Side side, uint256 size) external nonReentrant {
        if (size == 0) revert ZeroSize();
        Market storage m = markets[market];
        if (!m.enabled) revert MarketDisabled(market);
        bytes32 key = positionKeyOf(msg.sender, positionId);
        Position storage p = positions[key];
        if (p.srcChainId == 0 || collateral[key][collateralKeyOf(p.srcChainId, p.token)] == 0) revert NoCollateral();
        if (!collateralConfig[p.srcChainId][p.token].usdValued) revert CollateralNotTradable(p.srcChainId, p.token);
        uint256 price = oraclePrice(market);
        if (p.size == 0) {
            p.market = market;
            p.side = side;
            p.entryPrice = price;
        } else {
            if (p.market != market) revert WrongMarket(p.market, market);
            if (p.side != side) revert WrongSide();
            // Average entry rounded against the trader: a long's up, a short's down.
            p.entryPrice = MarginMath.mulDiv(
                p.size * p.entryPrice + size * price,
                1,
                p.size + size,
                side == MarginMath.Side.Long ? MarginMath.Rounding.Up : MarginMath.Rounding.Down
            );
        }
        p.size += size;
        uint256 fee = _fee(m, size, price);
        p.fees += fee;

        MarginMath.Account memory a = accountOf(key);
        int256 eq = MarginMath.equity(a, price);
        uint256 im = MarginMath.initialMargin(a.position, m.imr);
        if (eq < SafeCast.toInt256(im)) revert InsufficientMargin(eq, im);
        emit PositionTraded(key, true, size, price, fee);
        emit PositionChanged(key, msg.sender, positionId, market);
    }

    /// @notice Shrinks a position; the PnL of the part closed is realized (settled at close).
    function decrease(uint256 positionId, uint256 size) external nonReentrant {
        bytes32 key = positionKeyOf(msg.sender, positionId);
        Position storage p = positions[key];
        if (size == 0) revert ZeroSize();
        if (size > p.size) revert SizeTooLarge(size, p.size);
        (uint256 price, uint256 fee) = _reduce(p, size);
        emit PositionTraded(key, false, size, price, fee);
        emit PositionChanged(key, msg.sender, positionId, p.market);
    }

    /// @notice Sends free collateral back to the trader on its source chain (RELEASE). With exposure
    /// the initial margin must still hold; without, the settled balance must stay non-negative.
    function withdraw(uint256 positionId, uint256 amount) external nonReentrant {
        bytes32 key = positionKeyOf(msg.sender, positionId);
        Position storage p = positions[key];
        bytes32 ck = collateralKeyOf(p.srcChainId, p.token);
        uint256 held = collateral[key][ck];
        if (amount == 0 || amount > held) revert SizeTooLarge(amount, held);
        collateral[key][ck] = held - amount;
        MarginMath.Account memory a = accountOf(key);
        if (p.size > 0) {
            uint256 price = oraclePrice(p.market);
            int256 eq = MarginMath.equity(a, price);
            uint256 im = MarginMath.initialMargin(a.position, markets[p.market].imr);
            if (eq < SafeCast.toInt256(im)) revert InsufficientMargin(eq, im);
        } else if (a.collateral.amount < a.fees) {
            revert InsufficientMargin(-SafeCast.toInt256(a.fees - a.collateral.amount), 0);
        }
        _sendToSource(Outbound(p.srcChainId, msg.sender, positionId, p.token), MarginMessages.RELEASE, amount, 0, 0);
        emit CollateralWithdrawn(key, amount);
        emit PositionChanged(key, msg.sender, positionId, p.market);
    }

    /// @notice Closes the whole position at this chain's oracle price and settles it: the trader's
    /// share of the collateral is RELEASEd, the loss is SEIZEd to the insurance fund, profit beyond
    /// the collateral is paid here from the settlement pool.
    function close(uint256 positionId) external nonReentrant {
        bytes32 key = positionKeyOf(msg.sender, positionId);
        Position storage p = positions[key];
        if (p.srcChainId == 0) revert NoCollateral();
        uint256 price;
        if (p.size > 0) (price,) = _reduce(p, p.size);
        // Losses realized earlier still settle as a SEIZE: it carries today's price for the relayer's check.
        else if (p.market != bytes32(0)) price = oraclePrice(p.market);
        _settleClosed(key, price);
    }

    // ---------------------------------------------------------------- keeper

    /// @notice Liquidates a position that breaches its maintenance margin at the conservative end of
    /// an attested price range (a long at `high`, a short at `low`). The attestation must be fresh,
    /// for this market, signed by the attester quorum (signatures sorted by signer), near this chain's
    /// own oracle, and is usable once. The whole collateral is SEIZEd.
    function liquidate(bytes32 positionKey, PriceAttestation calldata a, bytes[] calldata signatures) external nonReentrant {
        Position storage p = positions[positionKey];
        if (p.size == 0) revert NothingToLiquidate();
        if (a.market != p.market) revert WrongMarket(p.market, a.market);
        bytes32 digest = _checkAttestation(a, markets[p.market], signatures);
        uint256 price = p.side == MarginMath.Side.Long ? a.high : a.low;
        _requireBreach(positionKey, markets[p.market].mmr, price);
        uint256 seized = _seizeAll(positionKey, price);
        emit PositionLiquidated(positionKey, a.market, price, digest, seized);
    }

    // ---------------------------------------------------------------- receive

    /// @notice Delivers a signed VAA (anyone may relay it): the guardians' signatures are checked by
    /// the core, the emitter must be the registered vault of its chain, and each VAA runs once.
    function receiveWormholeMessage(bytes calldata encodedVm) external nonReentrant {
        if (!executors[msg.sender]) revert NotExecutor(msg.sender);
        (IWormhole.VM memory vm, bool valid, string memory reason) = wormhole.parseAndVerifyVM(encodedVm);
        if (!valid) revert InvalidVaa(reason);
        bytes32 emitter = wormholeEmitters[vm.emitterChainId];
        if (emitter == bytes32(0) || emitter != vm.emitterAddress) revert UnknownEmitter(vm.emitterChainId, vm.emitterAddress);
        if (consumedVaas[vm.hash]) revert VaaAlreadyConsumed(vm.hash);
        consumedVaas[vm.hash] = true;
        _accept(chainIdOfWormhole[vm.emitterChainId], address(uint160(uint256(vm.emitterAddress))), vm.payload, vm.hash);
    }

    /// @dev OAppReceiver.lzReceive has already checked that the endpoint calls and that
    /// origin.sender is the peer of origin.srcEid; LayerZero has cleared the payload hash.
    function _lzReceive(
        Origin calldata origin,
        bytes32 guid,
        bytes calldata message,
        address executor,
        bytes calldata /* extraData */
    ) internal override {
        if (!executors[executor]) revert NotExecutor(executor);
        _accept(chainIdOfEid[origin.srcEid], address(uint160(uint256(origin.sender))), message, guid);
    }

    /// @dev Both transports end here, with the chain and sender they authenticated.
    function _accept(uint64 srcChainId, address sender, bytes memory message, bytes32 transportId) private {
        MarginMessages.Message memory m = MarginMessages.decode(message);
        if (m.kind != MarginMessages.CREDIT) revert UnsupportedKind(m.kind);
        // The message names its origin; it must be the one the transport authenticated.
        if (srcChainId == 0 || m.originChainId != srcChainId || m.origin != sender) revert OriginMismatch();
        // It names the engine it is for: another engine trusting the same vault cannot credit it too.
        if (m.targetChainId != block.chainid || m.target != address(this)) revert NotForThisEngine(m.targetChainId, m.target);
        _credit(m, srcChainId, transportId);
    }

    /// @dev A position is margined by one (source, token): the first credit binds it. A credit of
    /// another collateral, or of a token this engine does not accept, is not lost: it is RELEASEd
    /// straight back to the trader on its source.
    function _credit(MarginMessages.Message memory m, uint64 srcChainId, bytes32 transportId) private {
        bytes32 lockId = MarginMessages.messageId(srcChainId, m.origin, m.nonce);
        if (processed[lockId]) revert AlreadyProcessed(lockId);
        processed[lockId] = true;
        if (!collateralConfig[srcChainId][m.token].allowed) {
            emit CreditRefunded(lockId, srcChainId, m.trader, m.token, m.amount);
            _sendToSource(Outbound(srcChainId, m.trader, m.positionId, m.token), MarginMessages.RELEASE, m.amount, 0, 0);
            return;
        }

        bytes32 positionKey = positionKeyOf(m.trader, m.positionId);
        Position storage p = positions[positionKey];
        emit PositionCredited(lockId, positionKey, m.trader, m.positionId, srcChainId, m.token, m.amount, transportId);
        if (p.srcChainId == 0) {
            p.srcChainId = srcChainId;
            p.token = m.token;
            traderOf[positionKey] = m.trader;
            positionIdOf[positionKey] = m.positionId;
        } else if (p.srcChainId != srcChainId || p.token != m.token) {
            _sendToSource(Outbound(srcChainId, m.trader, m.positionId, m.token), MarginMessages.RELEASE, m.amount, 0, 0);
            return;
        }
        collateral[positionKey][collateralKeyOf(srcChainId, m.token)] += m.amount;
        emit PositionChanged(positionKey, m.trader, m.positionId, p.market);
    }

    // ---------------------------------------------------------------- internals

    /// @dev Closes `size` of the position at the oracle price, realizing its PnL and charging the fee.
    function _reduce(Position storage p, uint256 size) private returns (uint256 price, uint256 fee) {
        Market storage m = markets[p.market];
        price = oraclePrice(p.market);
        int256 pnl = MarginMath.pnl(MarginMath.Position({side: p.side, size: size, entryPrice: p.entryPrice}), price);
        p.realizedPnl += pnl;
        fee = _fee(m, size, price);
        p.fees += fee;
        p.size -= size;
        if (p.size == 0) p.entryPrice = 0;
    }

    function _settleClosed(bytes32 key, uint256 price) private {
        Position memory p = positions[key];
        bytes32 ck = collateralKeyOf(p.srcChainId, p.token);
        uint256 amount = collateral[key][ck];
        (int256 settled, uint256 released, uint256 profitPaid) = _split(amount, p);
        collateral[key][ck] = 0;
        delete positions[key];

        Outbound memory o = Outbound(p.srcChainId, traderOf[key], positionIdOf[key], p.token);
        if (released > 0) _sendToSource(o, MarginMessages.RELEASE, released, 0, 0);
        if (amount > released) _sendToSource(o, MarginMessages.SEIZE, amount - released, p.market, price);
        if (profitPaid > 0) settlementToken.safeTransferFrom(settlementPool, o.trader, profitPaid);
        emit PositionClosed(key, settled, released, amount - released, profitPaid);
        emit PositionChanged(key, o.trader, o.positionId, p.market);
    }

    /// @dev settled = collateral + realized PnL − fees (USD); the trader gets it back up to the
    /// collateral (in its token, rounded down), and the rest in the settlement token (rounded down).
    function _split(uint256 amount, Position memory p)
        private
        view
        returns (int256 settled, uint256 released, uint256 profitPaid)
    {
        uint256 scale = 10 ** (18 - collateralConfig[p.srcChainId][p.token].decimals);
        uint256 usd = amount * scale;
        settled = SafeCast.toInt256(usd) + p.realizedPnl - SafeCast.toInt256(p.fees);
        if (settled >= SafeCast.toInt256(usd)) {
            released = amount;
            profitPaid = (uint256(settled) - usd) / 10 ** (18 - settlementDecimals);
        } else if (settled > 0) {
            released = uint256(settled) / scale;
        }
    }

    function _requireBreach(bytes32 key, uint256 mmr, uint256 price) private view {
        MarginMath.Account memory acct = accountOf(key);
        int256 eq = MarginMath.equity(acct, price);
        uint256 mm = MarginMath.maintenanceMargin(acct.position, mmr, price);
        if (eq >= SafeCast.toInt256(mm)) revert NotLiquidatable(eq, mm);
    }

    /// @dev A liquidated position loses its whole collateral to the insurance fund.
    function _seizeAll(bytes32 key, uint256 price) private returns (uint256 seized) {
        Position memory p = positions[key];
        bytes32 ck = collateralKeyOf(p.srcChainId, p.token);
        seized = collateral[key][ck];
        collateral[key][ck] = 0;
        delete positions[key];
        Outbound memory o = Outbound(p.srcChainId, traderOf[key], positionIdOf[key], p.token);
        if (seized > 0) _sendToSource(o, MarginMessages.SEIZE, seized, p.market, price);
        emit PositionChanged(key, o.trader, o.positionId, p.market);
    }

    /// @dev The attester quorum, freshness, form and single use are PriceAttestations' checks; the
    /// deviation from this chain's own oracle is the engine's second check on chain.
    function _checkAttestation(PriceAttestation calldata a, Market storage m, bytes[] calldata signatures)
        private
        returns (bytes32 digest)
    {
        digest = attestations.consume(a, signatures, m.maxAttestationAge, m.minAttestedChains);
        uint256 own = oraclePrice(a.market);
        uint256 gap = own > a.median ? own - a.median : a.median - own;
        if (gap * BPS > a.median * m.maxDeviationBps) revert OracleDeviation(own, a.median);
    }

    /// @dev fee = feeRate·q·P rounded up: the trader never pays less than the rate.
    function _fee(Market storage m, uint256 size, uint256 price) private view returns (uint256) {
        return MarginMath.mulDiv(size * price, m.feeRate, WAD * WAD, MarginMath.Rounding.Up);
    }

    function _collateralUsd(bytes32 key, Position storage p) private view returns (uint256) {
        if (p.srcChainId == 0) return 0;
        uint256 amount = collateral[key][collateralKeyOf(p.srcChainId, p.token)];
        return amount * 10 ** (18 - collateralConfig[p.srcChainId][p.token].decimals);
    }

    /// @dev The only place that sends back to a source: RELEASE or SEIZE through that source's return
    /// route, paying the messaging fee from this contract's balance.
    function _sendToSource(Outbound memory o, uint8 kind, uint256 amount, bytes32 market, uint256 price) private {
        uint64 n = ++outboundNonce[o.chainId];
        bytes32 messageId = MarginMessages.messageId(uint64(block.chainid), address(this), n);
        bytes memory payload = MarginMessages.encode(
            MarginMessages.Message({
                version: MarginMessages.VERSION,
                kind: kind,
                originChainId: uint64(block.chainid),
                origin: address(this),
                nonce: n,
                trader: o.trader,
                positionId: o.positionId,
                token: o.token,
                amount: amount,
                targetChainId: o.chainId,
                target: _vaultOf(o.chainId),
                market: market,
                price: price
            })
        );
        bytes32 transportId = _publish(o.chainId, payload);
        emit SettlementSent(messageId, o.chainId, kind, o.trader, o.positionId, o.token, amount, transportId);
    }

    /// @dev The vault of a source chain: its LayerZero peer, or its Wormhole emitter, by the return route's transport.
    function _vaultOf(uint64 chainId) private view returns (address) {
        bytes32 v = returnRoutes[chainId].transport == TRANSPORT_WORMHOLE ? wormholeEmitters[wormholeChainOf[chainId]] : peers[eidOfChainId[chainId]];
        if (v == bytes32(0)) revert NoReturnRoute(chainId);
        return address(uint160(uint256(v)));
    }

    /// @dev Sends through the source's return route; returns the LayerZero guid or the VAA id.
    function _publish(uint64 chainId, bytes memory payload) private returns (bytes32) {
        ReturnRoute memory route = returnRoutes[chainId];
        if (route.transport == TRANSPORT_LAYERZERO) {
            uint32 eid = eidOfChainId[chainId];
            bytes memory options = LzOptions.lzReceive(route.lzReceiveGas);
            MessagingFee memory fee = _quote(eid, payload, options, false);
            return _lzSend(eid, payload, options, fee, address(this)).guid;
        }
        if (route.transport == TRANSPORT_WORMHOLE) {
            uint256 fee = wormhole.messageFee();
            if (address(this).balance < fee) revert InsufficientFeeBalance(address(this).balance, fee);
            // The VAA nonce names the target chain: a VAA is a broadcast, the vault checks it is meant for it.
            uint64 sequence = wormhole.publishMessage{value: fee}(wormholeChainOf[chainId], payload, route.wormholeConsistency);
            return keccak256(abi.encodePacked(wormhole.chainId(), bytes32(uint256(uint160(address(this)))), sequence));
        }
        revert NoReturnRoute(chainId);
    }

    /// @dev Fees are paid from this contract's balance, not by the caller (who may be a relayer).
    function _payNative(uint256 nativeFee) internal view override returns (uint256) {
        if (address(this).balance < nativeFee) revert InsufficientFeeBalance(address(this).balance, nativeFee);
        return nativeFee;
    }
}
